// Runtime configuration, read from /app/config.json at start (never baked into the build).
export type AuthMode = "local" | "cognito";

export interface DemoUser {
  sub: string;
  email: string;
  groups: string[];
  org_id?: string | null;
  label?: string;
}

export interface AppConfig {
  apiUrl: string;
  authMode: AuthMode;
  cognitoDomain?: string;
  cognitoIssuer?: string;
  clientId?: string;
  redirectUri?: string;
  logoutUri?: string;
  demoUsers?: DemoUser[];
}

let current: AppConfig | null = null;

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  const raw = (await response.json()) as AppConfig;
  if (raw.authMode !== "local" && raw.authMode !== "cognito") {
    throw new Error("config.json: authMode must be local or cognito");
  }
  current = { ...raw, apiUrl: raw.apiUrl.replace(/\/+$/, "") };
  return current;
}

export function config(): AppConfig {
  if (current === null) throw new Error("configuration not loaded");
  return current;
}
