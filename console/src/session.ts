import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { OperatorRole, SessionView } from '../../src/sdk/index.js';
import { allows } from './api.js';

export interface SessionState {
  session: SessionView;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionState | undefined>(undefined);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === undefined) throw new Error('no session');
  return state;
}

/** Whether the signed-in operator's role reaches `least`. */
export function useCan(least: OperatorRole): boolean {
  return allows(useSession().session.operator.role, least);
}
