// The session: a bearer token in sessionStorage and what its payload says about the caller.
// The API stays the authority; the role only decides which links the app shows.
import { config } from "./config";

const TOKEN_KEY = "helpdesk.token";

export type Role = "client" | "consultant" | "manager" | "finance" | "unknown";

export interface Session {
  token: string;
  sub: string;
  email: string;
  role: Role;
  level: number | null;
  orgId: string | null;
  expiresAt: number | null;
}

function base64UrlDecode(text: string): string {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function decodeToken(token: string): Session | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
  } catch {
    return null;
  }
  const rawGroups = payload["cognito:groups"];
  const groups = Array.isArray(rawGroups) ? rawGroups.map(String) : typeof rawGroups === "string" ? rawGroups.split(/[ ,]+/) : [];
  let role: Role = "unknown";
  let level: number | null = null;
  for (const group of groups) {
    if (group === "managers") role = "manager";
    else if (group === "finance") role = "finance";
    else if (group === "clients") role = "client";
    else {
      const match = /^consultants-l([123])$/.exec(group);
      if (match) {
        role = "consultant";
        level = Number(match[1]);
      }
    }
  }
  const exp = typeof payload.exp === "number" ? payload.exp * 1000 : null;
  return {
    token,
    sub: String(payload.sub ?? ""),
    email: String(payload.email ?? ""),
    role,
    level,
    orgId: typeof payload["custom:org_id"] === "string" ? (payload["custom:org_id"] as string) : null,
    expiresAt: exp,
  };
}

export function currentSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const session = decodeToken(token);
  if (session === null || (session.expiresAt !== null && session.expiresAt < Date.now())) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return session;
}

export function signInWithToken(token: string): Session | null {
  const session = decodeToken(token.trim());
  if (session === null) return null;
  sessionStorage.setItem(TOKEN_KEY, session.token);
  return session;
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function isStaff(session: Session | null): boolean {
  return session?.role === "consultant" || session?.role === "manager";
}

export async function localToken(user: {
  sub: string;
  email: string;
  groups: string[];
  org_id?: string | null;
}): Promise<string> {
  const body: Record<string, unknown> = { sub: user.sub, email: user.email, groups: user.groups };
  if (user.org_id) body.org_id = user.org_id;
  const response = await fetch(`${config().apiUrl}/_local/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`jeton refusé (${response.status})`);
  const data = (await response.json()) as { token: string };
  return data.token;
}

// Cognito managed login (authorization code + PKCE), loaded only in cognito mode.
async function userManager() {
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  const cfg = config();
  const domain = (cfg.cognitoDomain ?? "").replace(/\/+$/, "");
  return new UserManager({
    authority: cfg.cognitoIssuer ?? domain,
    client_id: cfg.clientId ?? "",
    redirect_uri: cfg.redirectUri ?? `${location.origin}${import.meta.env.BASE_URL}callback`,
    response_type: "code",
    scope: "openid email profile",
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    loadUserInfo: false,
    metadata: {
      issuer: cfg.cognitoIssuer ?? domain,
      authorization_endpoint: `${domain}/oauth2/authorize`,
      token_endpoint: `${domain}/oauth2/token`,
      revocation_endpoint: `${domain}/oauth2/revoke`,
    },
  });
}

export async function cognitoSignIn(): Promise<void> {
  const manager = await userManager();
  await manager.signinRedirect();
}

export async function cognitoCallback(): Promise<Session | null> {
  const manager = await userManager();
  const user = await manager.signinRedirectCallback();
  return user.id_token ? signInWithToken(user.id_token) : null;
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  const cfg = config();
  if (cfg.authMode === "cognito") {
    const manager = await userManager();
    await manager.removeUser();
    const logoutUri = cfg.logoutUri ?? `${location.origin}${import.meta.env.BASE_URL}`;
    const domain = (cfg.cognitoDomain ?? "").replace(/\/+$/, "");
    // Cognito's own logout endpoint (not the OIDC end_session_endpoint).
    location.assign(
      `${domain}/logout?client_id=${encodeURIComponent(cfg.clientId ?? "")}&logout_uri=${encodeURIComponent(logoutUri)}`,
    );
  }
}
