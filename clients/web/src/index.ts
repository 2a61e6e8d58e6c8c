// @lang-portal/study-sessions-client: calls to the study-sessions API with the learner's ID token,
// and their sign-in. No React here: the sign-in gate is the "./react" entry.
export { SESSION_ENDED, apiBase, apiFetch, authorizedFetch, configure, onSignInRequired } from "./client.js";
export { configFromEnv, loadConfig, readConfig, type ClientConfig, type ConfigSource } from "./config.js";
export {
  SignInFailed, configureSignIn, currentLearner, idToken, signIn, signOut, type Learner, type SignInSettings,
} from "./auth.js";
export { SignInRequired, createAuthorizedFetch, type AuthorizedFetchOptions, type IdTokenSource } from "./authorized-fetch.js";
export {
  ApiError, countDue, createApiFetch, studySessionsApi, type ApiFetch, type ApiOptions, type ReviewOptions,
} from "./api.js";
export type {
  CreatedSession, CursorPage, DashboardStats, DueWord, DueWordPage, ErrorBody, Group, NewReview, NewSession,
  RecentSession, Review, Scheduler, SchedulerChange, Schemas, Session, Word, components, paths,
} from "./api.js";
