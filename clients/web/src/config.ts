// Where a frontend finds the API and its user pool, read at run time: a config.json the host
// serves (the /app page's shape), or the VITE_* variables `make frontend-config` prints.
import type { SignInSettings } from "./auth.js";

export interface ClientConfig {
  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/dev; "" for the page's own origin. */
  apiBase: string;
  /** null on a stage without sign-in (make run without AUTH=cognito). */
  signIn: SignInSettings | null;
}

/** Where the settings are: themselves, a config.json's URL, or an app's `import.meta.env` (Vite). */
export type ConfigSource = ClientConfig | string | Record<string, unknown>;

export async function readConfig(source: ConfigSource): Promise<ClientConfig> {
  if (typeof source === "string") return loadConfig(source);
  return "apiBase" in source ? (source as unknown as ClientConfig) : configFromEnv(source);
}

/** The settings an app's `import.meta.env` holds (Vite), as `make frontend-config` printed them. */
export function configFromEnv(env: Record<string, unknown>): ClientConfig {
  const value = (name: string) => (typeof env[name] === "string" && env[name] !== "" ? (env[name] as string) : undefined);
  const apiBase = value("VITE_API_BASE_URL");
  if (apiBase === undefined) {
    throw new Error("VITE_API_BASE_URL is not set: write the stage's settings with make frontend-config.");
  }
  const userPoolId = value("VITE_USER_POOL_ID");
  if (userPoolId === undefined) return { apiBase, signIn: null };
  const region = value("VITE_AWS_REGION");
  const userPoolClientId = value("VITE_USER_POOL_CLIENT_ID");
  if (region === undefined || userPoolClientId === undefined) {
    throw new Error("VITE_USER_POOL_ID is set without VITE_AWS_REGION and VITE_USER_POOL_CLIENT_ID.");
  }
  const userPoolEndpoint = value("VITE_USER_POOL_ENDPOINT");
  return { apiBase, signIn: { region, userPoolId, userPoolClientId, ...(userPoolEndpoint ? { userPoolEndpoint } : {}) } };
}

/** A config.json's settings, fetched from `url` (relative to the page). */
export async function loadConfig(url: string): Promise<ClientConfig> {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}.`);
  const config: unknown = await response.json();
  if (!isClientConfig(config)) throw new Error(`${url} holds no {"apiBase", "signIn"} settings.`);
  return config;
}

function isClientConfig(value: unknown): value is ClientConfig {
  if (!value || typeof value !== "object") return false;
  const { apiBase, signIn } = value as Record<string, unknown>;
  if (typeof apiBase !== "string") return false;
  if (signIn === null) return true;
  if (!signIn || typeof signIn !== "object") return false;
  const pool = signIn as Record<string, unknown>;
  return ["region", "userPoolId", "userPoolClientId"].every((name) => typeof pool[name] === "string");
}
