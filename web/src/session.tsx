import { createContext, useContext } from "react";
import type { Session } from "./auth";

export interface SessionState {
  session: Session | null;
  setSession: (session: Session | null) => void;
}

export const SessionContext = createContext<SessionState>({ session: null, setSession: () => {} });

export function useSession(): SessionState {
  return useContext(SessionContext);
}

/** The signed-in session (pages under RequireSession only). */
export function useCaller(): Session {
  const { session } = useContext(SessionContext);
  if (session === null) throw new Error("not signed in");
  return session;
}
