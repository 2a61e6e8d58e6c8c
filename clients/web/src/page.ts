// The /app page of make run: sign in, see your figures and sessions, study what is due in a group,
// sign out. A session's next words (due first, then new) are shown one card at a time, the meaning
// hidden until the learner shows it; each answer is a review sent with an Idempotency-Key kept in
// the tab (study-state.ts), so a reload neither loses nor doubles it. It uses the package's own
// entry (./index), as a frontend that installs it would.
import {
  ApiError, SESSION_ENDED, SignInFailed, SignInRequired, apiFetch, configure, currentLearner, readConfig, signIn,
  signOut, studySessionsApi, type DueWord, type Scheduler,
} from "./index.js";
import { describeScheduler } from "./scheduler-view.js";
import { answered, answering, newStudy, randomKey, studyStore, type StudyState, type StudyStore } from "./study-state.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** An answer sent whose outcome the page does not know (no answer came): kept, to be sent again. */
class Unconfirmed extends Error {}
const WORDS_PER_ROUND = 5;
// Answers this page sent, by session: a session's count is the stream consumer's, a second behind.
const answersSent = new Map<string, number>();

async function main(): Promise<void> {
  const config = await readConfig("config.json");
  configure(config);
  const api = studySessionsApi(apiFetch);
  const group = $<HTMLSelectElement>("group");
  let store: StudyStore | null = null;
  let study: StudyState | null = null;
  let round: DueWord[] = [];
  let position = 0;
  let roundKnew = 0;
  let saving = false;  // a desired retention on its way
  let dueAsked = 0;  // the latest due count asked for: an older answer arriving late is dropped

  async function run(action: () => Promise<void>): Promise<void> {
    $("message").textContent = "";
    try {
      await action();
    } catch (error) {
      if (error instanceof SignInRequired) return showSignIn(SESSION_ENDED);
      $("message").textContent = error instanceof ApiError || error instanceof SignInFailed ||
        error instanceof Unconfirmed ? error.message : "Something went wrong; please try again.";
    }
  }

  function showSignIn(reason = ""): void {
    $("home").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = reason;
  }

  /** The learner's home, and the study session this tab was in, resumed. */
  async function enter(): Promise<void> {
    const learner = config.signIn ? await currentLearner() : { id: "implicit", username: "you" };
    if (!learner) return showSignIn();
    store = studyStore(sessionStorage, learner.id);
    study = store.load();
    hideStudy();
    await Promise.all([showHome(learner.username), showScheduler()]);
    if (study) {
      group.value = String(study.groupId);
      await resume();
    } else {
      await refreshDue();
    }
  }

  async function showHome(username?: string): Promise<void> {
    const [stats, sessions, groups] = await Promise.all([api.stats(), api.sessions(), api.groups()]);
    if (username !== undefined) $("learner-name").textContent = username;
    $("stat-sessions").textContent = String(stats.total_sessions);
    $("stat-studied").textContent = String(stats.total_words_studied);
    $("stat-success").textContent = `${Math.round(stats.success_rate * 100)} %`;
    $("sessions").replaceChildren(...sessions.items.map((session) => {
      const item = document.createElement("li");
      item.textContent = `${session.group_name} · ${session.activity_name} · ${session.start_time} · ` +
        `${Math.max(session.review_items_count, answersSent.get(session.id) ?? 0)} answers`;
      return item;
    }));
    const chosen = group.value;
    group.replaceChildren(...groups.items.map((each) => new Option(each.name, String(each.id))));
    if (chosen && groups.items.some((each) => String(each.id) === chosen)) group.value = chosen;
    $("signin").hidden = true;
    $("signout").hidden = !config.signIn;
    $("home").hidden = false;
  }

  /** The learner's scheduler and its desired-retention setting: shown only where the API answers
   * GET /api/me/scheduler (an API without the route answers 404, and any refusal hides it). */
  async function showScheduler(): Promise<void> {
    $("retention-result").textContent = "";
    try {
      renderScheduler(await api.scheduler());
      $("scheduler").hidden = false;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      $("scheduler").hidden = true;
    }
  }

  function renderScheduler(scheduler: Scheduler): void {
    const view = describeScheduler(scheduler);
    $("scheduler-source").textContent = view.source;
    $("scheduler-summary").textContent = view.summary;
    $("scheduler-evaluation-rows").replaceChildren(...view.evaluation.map((row) => {
      const line = document.createElement("tr");
      const label = document.createElement("th");
      label.scope = "row";
      label.textContent = row.label;
      line.append(label, ...[row.yours, row.defaults].map((figure) => {
        const cell = document.createElement("td");
        cell.textContent = figure;
        return cell;
      }));
      return line;
    }));
    $("scheduler-evaluation").hidden = view.evaluation.length === 0;
    $("scheduler-scored").textContent = view.scored;
    $<HTMLInputElement>("retention").value = view.retention;
  }

  /** Sends the desired retention typed; the API's answer is what the page shows: the value stored,
   * or its sentence when it refuses one (nothing is then stored). */
  async function saveRetention(): Promise<void> {
    const input = $<HTMLInputElement>("retention");
    const result = $("retention-result");
    result.textContent = "";
    result.classList.remove("error");
    const typed = input.valueAsNumber;
    if (Number.isNaN(typed)) {
      result.classList.add("error");
      result.textContent = "Type a number from 0.70 to 0.97.";
      return input.focus();
    }
    try {
      const stored = await api.setDesiredRetention(typed);
      renderScheduler(stored);
      result.textContent = `Saved: desired retention ${describeScheduler(stored).retention}.`;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      result.classList.add("error");
      result.textContent = error.message;  // the API's own sentence, e.g. the range it accepts
      input.focus();
    }
  }

  /** "N due now" for the chosen group, from its due-words pages. */
  async function refreshDue(): Promise<void> {
    const groupId = Number(group.value);
    if (!groupId) return;
    const asked = ++dueAsked;
    const count = await api.dueNow(groupId);
    if (asked !== dueAsked) return;
    $("due-count").textContent = String(count);
    $("due-group").textContent = group.selectedOptions[0]?.text ?? "";
    $("due").hidden = false;
  }

  async function start(): Promise<void> {
    if (!store) return;
    if (study?.pending) await sendPending();  // the answer of the session before is stored first
    const groupId = Number(group.value);
    const session = await api.startSession({ group_id: groupId, study_activity_id: 1 });
    study = newStudy(session.id, groupId);
    store.save(study);
    await nextRound();
  }

  async function nextRound(): Promise<void> {
    if (!study) return;
    try {
      round = (await api.nextWords(study.sessionId, WORDS_PER_ROUND)).items;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) forgetStudy();  // the session is gone (a reset)
      throw error;
    }
    position = 0;
    roundKnew = 0;
    if (round.length) showCard();
    else showSummary();
    await refreshDue();
  }

  /** After a reload: the answer that was being sent is sent again (same key), then the next words. */
  async function resume(): Promise<void> {
    if (study?.pending) {
      round = [study.pending.word];
      position = 0;
      roundKnew = 0;
      showCard();
      showAnswered();
      await sendPending();
    }
    await nextRound();
  }

  function forgetStudy(): void {
    store?.clear();
    study = null;
    hideStudy();
  }

  function hideStudy(): void {
    dueAsked += 1;  // a due count still on its way is not shown
    for (const id of ["card", "summary", "due"]) $(id).hidden = true;
  }

  function showCard(): void {
    const word = round[position];
    $("summary").hidden = true;
    $("card-progress").textContent = `Word ${position + 1} of ${round.length}` +
      (word.state === "new" ? " · new" : " · due");
    $("card-word").textContent = word.kanji;
    $("card-romaji").textContent = word.romaji;
    $("card-meaning").textContent = "";  // not in the page until shown
    $("card-meaning").hidden = true;
    $("reveal").hidden = false;
    $("answer").hidden = true;
    $("resend").hidden = true;
    $("card").hidden = false;
    $("reveal").focus();
  }

  function reveal(): void {
    const word = round[position];
    $("card-meaning").textContent = word.english;
    $("card-meaning").hidden = false;
    $("reveal").hidden = true;
    $("answer").hidden = false;
    for (const id of ["knew", "missed"]) $<HTMLButtonElement>(id).disabled = false;
    $("knew").focus();
  }

  /** The card of an answer being sent: its meaning shown, its buttons off. */
  function showAnswered(): void {
    reveal();
    for (const id of ["knew", "missed"]) $<HTMLButtonElement>(id).disabled = true;
  }

  async function answer(correct: boolean): Promise<void> {
    if (!study || !store) return;
    showAnswered();
    study = answering(study, round[position], correct, randomKey);
    store.save(study);  // before it is sent: a reload sends it again with the same key
    await sendPending();
    await advance();
  }

  async function sendPending(): Promise<void> {
    if (!study?.pending || !store) return;
    const { sessionId, pending } = study;
    try {
      await api.review(sessionId, { word_id: pending.word.id, correct: pending.correct },
                       { idempotencyKey: pending.key });
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) {
        forgetStudy();  // refused (the session is gone, say): nothing stored, and sending it again cannot help
        throw error;
      }
      $("answer").hidden = true;
      $("resend").hidden = false;
      $("resend").focus();
      if (error instanceof ApiError || error instanceof SignInRequired) throw error;
      throw new Unconfirmed("Your answer was not confirmed: send it again (it is stored once either way).");
    }
    study = answered(study);
    store.save(study);
    roundKnew += pending.correct ? 1 : 0;
    answersSent.set(sessionId, (answersSent.get(sessionId) ?? 0) + 1);
  }

  async function advance(): Promise<void> {
    position += 1;
    if (position < round.length) {
      showCard();
      await refreshDue();
    } else {
      showSummary();
      await Promise.all([refreshDue(), showHome()]);
    }
  }

  function showSummary(): void {
    $("card").hidden = true;
    $("round-result").textContent = round.length
      ? `You knew ${roundKnew} of ${round.length} ${round.length === 1 ? "word" : "words"}.`
      : "Nothing is due or new in this group now.";
    $("session-result").textContent = study
      ? `This session: ${study.knew} known, ${study.missed} missed.` : "";
    $("summary").hidden = false;
    $("more").focus();
  }

  $<HTMLFormElement>("signin-form").onsubmit = (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    return run(async () => {
      try {
        await signIn($<HTMLInputElement>("username").value, $<HTMLInputElement>("password").value);
      } catch (error) {
        if (error instanceof SignInFailed) return void ($("signin-error").textContent = error.message);
        throw error;
      }
      $<HTMLInputElement>("password").value = "";
      await enter();
    });
  };
  $("start").onclick = () => run(async () => {
    $<HTMLButtonElement>("start").disabled = true;
    try {
      await start();
    } finally {
      $<HTMLButtonElement>("start").disabled = false;
    }
  });
  group.onchange = () => run(refreshDue);
  $("reveal").onclick = reveal;
  $("knew").onclick = () => run(() => answer(true));
  $("missed").onclick = () => run(() => answer(false));
  $("resend").onclick = () => run(async () => {
    $("resend").hidden = true;
    await sendPending();
    await advance();
  });
  $("more").onclick = () => run(nextRound);
  $<HTMLFormElement>("retention-form").onsubmit = (event) => {
    event.preventDefault();
    if (saving) return;  // one change at a time; the button stays focusable (a disabled one loses the focus)
    saving = true;
    return run(saveRetention).finally(() => { saving = false; });
  };
  $("signout").onclick = () => run(async () => {
    await signOut();
    forgetStudy();  // this tab's study state, an answer not yet stored included
    store = null;
    showSignIn("Signed out.");
  });
  await run(enter);
  document.body.dataset.ready = "true";
}

void main();
