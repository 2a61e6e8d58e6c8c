// The /app page of make run: sign in, see your figures and sessions, study a group's words,
// sign out. It uses the package's own entry (./index), as a frontend that installs it would.
import {
  ApiError, SESSION_ENDED, SignInFailed, SignInRequired, apiFetch, configure, currentLearner, readConfig, signIn,
  signOut, studySessionsApi, type Word,
} from "./index.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const WORDS_PER_ROUND = 5;
// Answers this page sent, by session: a session's count is the stream consumer's, a second behind.
const answersSent = new Map<string, number>();

async function main(): Promise<void> {
  const config = await readConfig("config.json");
  configure(config);
  const api = studySessionsApi(apiFetch);

  async function run(action: () => Promise<void>): Promise<void> {
    $("message").textContent = "";
    try {
      await action();
    } catch (error) {
      if (error instanceof SignInRequired) return showSignIn(SESSION_ENDED);
      $("message").textContent = error instanceof ApiError || error instanceof SignInFailed
        ? error.message : "Something went wrong; please try again.";
    }
  }

  function showSignIn(reason = ""): void {
    $("home").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = reason;
  }

  async function showHome(): Promise<void> {
    const learner = config.signIn ? await currentLearner() : { id: "implicit", username: "you" };
    if (!learner) return showSignIn();
    const [stats, sessions, groups] = await Promise.all([api.stats(), api.sessions(), api.groups()]);
    $("learner-name").textContent = learner.username;
    $("stat-sessions").textContent = String(stats.total_sessions);
    $("stat-studied").textContent = String(stats.total_words_studied);
    $("stat-success").textContent = `${Math.round(stats.success_rate * 100)} %`;
    $("sessions").replaceChildren(...sessions.items.map((session) => {
      const item = document.createElement("li");
      item.textContent = `${session.group_name} · ${session.activity_name} · ${session.start_time} · ` +
        `${Math.max(session.review_items_count, answersSent.get(session.id) ?? 0)} answers`;
      return item;
    }));
    $("group").replaceChildren(...groups.items.map((group) => new Option(group.name, String(group.id))));
    $("signin").hidden = true;
    $("signout").hidden = !config.signIn;
    $("home").hidden = false;
  }

  async function study(): Promise<void> {
    const groupId = Number(($("group") as HTMLSelectElement).value);
    const session = await api.startSession({ group_id: groupId, study_activity_id: 1 });
    const words = await api.groupWords(groupId, WORDS_PER_ROUND);
    $("study").replaceChildren(...words.items.map((word) => card(session.id, word)));
  }

  function card(sessionId: string, word: Word): HTMLElement {
    const item = document.createElement("li");
    item.dataset.word = String(word.id);
    item.append(`${word.kanji} (${word.romaji}) = ${word.english} `);
    for (const [label, correct] of [["Knew it", true], ["Missed it", false]] as const) {
      const button = document.createElement("button");
      button.textContent = label;
      button.onclick = () => run(async () => {
        await api.review(sessionId, { word_id: word.id, correct });
        answersSent.set(sessionId, (answersSent.get(sessionId) ?? 0) + 1);
        item.replaceChildren(`${word.kanji}: ${correct ? "knew it" : "missed it"}`);
        item.classList.add("answered");
        await showHome();
      });
      item.append(button);
    }
    return item;
  }

  ($("signin-form") as HTMLFormElement).onsubmit = (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    return run(async () => {
      try {
        await signIn(($("username") as HTMLInputElement).value, ($("password") as HTMLInputElement).value);
      } catch (error) {
        if (error instanceof SignInFailed) return void ($("signin-error").textContent = error.message);
        throw error;
      }
      ($("password") as HTMLInputElement).value = "";
      await showHome();
    });
  };
  $("start").onclick = () => run(study);
  $("signout").onclick = () => run(async () => {
    await signOut();
    $("study").replaceChildren();
    showSignIn("Signed out.");
  });
  await run(showHome);
  document.body.dataset.ready = "true";
}

void main();
