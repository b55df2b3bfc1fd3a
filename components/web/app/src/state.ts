// What every page needs: the caller's workspaces and role, and the workspace's X accounts.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Role = 'viewer' | 'editor' | 'admin' | 'owner';
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export interface Workspace {
  id: string;
  name: string;
  role: Role;
  memberCount: number;
}

export interface Account {
  id: string;
  username: string;
  displayName?: string;
  label?: string | null;
  status: 'active' | 'needs_reauth' | 'paused' | 'suspended';
  timezone: string;
  postingSlots: Array<{ day: string; time: string }>;
  dailyPostCap: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  tokenExpiresAt: string | null;
  authKind: string;
}

export interface AppState {
  workspaces: Workspace[];
  workspace: Workspace | null;
  accounts: Account[];
  /** False until the workspace's accounts were read once. */
  accountsLoaded: boolean;
  reloadAccounts: () => Promise<void>;
  reloadWorkspaces: () => Promise<void>;
  switchWorkspace: (id: string) => void;
  notify: (message: string, kind?: 'ok' | 'error') => void;
}

export const AppContext = createContext<AppState>(null as unknown as AppState);

export function useApp(): AppState {
  return useContext(AppContext);
}

/** Whether the caller's role in the current workspace is at least `role`. */
export function can(state: AppState, role: Role): boolean {
  return state.workspace !== null && RANK[state.workspace.role] >= RANK[role];
}

export const ROLES: Role[] = ['viewer', 'editor', 'admin', 'owner'];
