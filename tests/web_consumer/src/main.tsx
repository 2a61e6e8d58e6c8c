// A React app as a frontend team writes it: its calls are fetch calls renamed authorizedFetch,
// the whole app wrapped in the gate, the settings read at run time from the host's config.json.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { apiBase, authorizedFetch, type DashboardStats, type paths } from "@lang-portal/study-sessions-client";
import { SignInGate } from "@lang-portal/study-sessions-client/react";

type SessionPage = paths["/api/study-sessions/{session_id}"]["get"]["responses"]["200"]["content"]["application/json"];

function Dashboard() {
  const [stats, setStats] = useState<DashboardStats | null>(null);
  const [created, setCreated] = useState("");
  const [session, setSession] = useState<SessionPage["session"] | null>(null);

  async function loadStats() {
    const response = await authorizedFetch(`${apiBase()}/dashboard/stats`);
    if (response.ok) setStats(await response.json());
  }

  async function startSession() {
    const response = await authorizedFetch(`${apiBase()}/api/study-sessions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ group_id: 1, study_activity_id: 1 }),
    });
    setCreated(String(response.status));
    if (!response.ok) return;
    const { id } = await response.json();
    const stored = await authorizedFetch(`${apiBase()}/api/study-sessions/${id}`);
    if (stored.ok) setSession(((await stored.json()) as SessionPage).session);
  }

  useEffect(() => void loadStats(), []);
  return (
    <main>
      <p id="sessions">{stats ? stats.total_sessions : "…"}</p>
      <button id="start" type="button" onClick={startSession}>Start a session</button>
      <p id="created">{created}</p>
      <p id="session">{session && `${session.group_name} · ${session.activity_name}`}</p>
    </main>
  );
}

createRoot(document.getElementById("root")!).render(
  <SignInGate config="/config.json"><Dashboard /></SignInGate>,
);
