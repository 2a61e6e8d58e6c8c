// A frontend without React: the core entry alone must bring no React into its bundle.
import { authorizedFetch, configure, readConfig } from "@lang-portal/study-sessions-client";

const config = await readConfig("/config.json");
configure(config);
const response = await authorizedFetch(`${config.apiBase}/api/groups`);
document.getElementById("out")!.textContent = String(response.status);
