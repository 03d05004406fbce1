import { lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from "react";
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { clearSession, currentSession, isStaff, signOut, type Session } from "./auth";
import { ROLE_LABELS } from "./i18n";
import { SessionContext, useSession } from "./session";
import { Login } from "./pages/Login";
import { Tickets } from "./pages/Tickets";

const TicketPage = lazy(() => import("./pages/TicketPage"));
const NewTicket = lazy(() => import("./pages/NewTicket"));
const Billing = lazy(() => import("./pages/Billing"));
const Orgs = lazy(() => import("./pages/Orgs"));
const Consultants = lazy(() => import("./pages/Consultants"));
const Quarantine = lazy(() => import("./pages/Quarantine"));
const Contract = lazy(() => import("./pages/Contract"));
const LinkPage = lazy(() => import("./pages/LinkPage"));
const Callback = lazy(() => import("./pages/Callback"));

function homeFor(session: Session): string {
  return session.role === "finance" ? "/billing" : "/tickets";
}

function Nav({ session }: { session: Session }) {
  const { setSession } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const here = location.pathname + location.search;
  const staff = isStaff(session);
  const manager = session.role === "manager";
  const links: Array<[string, string]> = [];
  if (session.role !== "finance") links.push(["/tickets", "Tickets"]);
  if (staff) {
    links.push(["/tickets?view=mine", "Mes tickets"]);
    links.push(["/tickets?view=queue", "File d'attente"]);
  }
  if (session.role !== "finance") links.push(["/tickets/new", "Nouveau ticket"]);
  if (session.role === "client") links.push(["/contract", "Contrat"]);
  if (manager || session.role === "finance") links.push(["/billing", "Facturation"]);
  if (manager) {
    links.push(["/orgs", "Organisations"]);
    links.push(["/consultants", "Consultants"]);
    links.push(["/quarantine", "Quarantaine"]);
  }
  const level = session.level ? ` niveau ${session.level}` : "";
  const org = session.orgId ? `, ${session.orgId}` : "";
  return (
    <header className="top">
      <a className="skip" href="#main">
        Aller au contenu
      </a>
      <span className="brand">Helpdesk</span>
      <nav aria-label="Navigation principale">
        <ul>
          {links.map(([to, text]) => (
            <li key={to}>
              <Link to={to} aria-current={here === to ? "page" : undefined}>
                {text}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <span className="who">
        {session.sub} ({ROLE_LABELS[session.role]}
        {level}
        {org})
      </span>
      <button
        type="button"
        onClick={() => {
          void signOut().then(() => {
            setSession(null);
            navigate("/login");
          });
        }}
      >
        Se déconnecter
      </button>
    </header>
  );
}

function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const location = useLocation();
  if (session === null) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return (
    <>
      <Nav session={session} />
      <main id="main" className="page" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function Loading() {
  return (
    <main className="page">
      <p role="status">Chargement…</p>
    </main>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page introuvable</h1>
      <p>Cette page n'existe pas.</p>
    </>
  );
}

function Home() {
  const { session } = useSession();
  return <Navigate to={session ? homeFor(session) : "/login"} replace />;
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => currentSession());
  const value = useMemo(() => ({ session, setSession }), [session]);
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    const onUnauthorized = () => {
      clearSession();
      setSession(null);
    };
    window.addEventListener("helpdesk:unauthorized", onUnauthorized);
    return () => window.removeEventListener("helpdesk:unauthorized", onUnauthorized);
  }, [navigate]);

  useEffect(() => {
    // Each page's title names it; focus goes to the main region on navigation.
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [location.pathname]);

  return (
    <SessionContext.Provider value={value}>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/login" element={<Login />} />
          <Route path="/callback" element={<Callback />} />
          <Route path="/l/:token" element={<LinkPage />} />
          <Route path="/tickets" element={<RequireSession><Tickets /></RequireSession>} />
          <Route path="/tickets/new" element={<RequireSession><NewTicket /></RequireSession>} />
          <Route path="/tickets/:number" element={<RequireSession><TicketPage /></RequireSession>} />
          <Route path="/billing" element={<RequireSession><Billing /></RequireSession>} />
          <Route path="/orgs" element={<RequireSession><Orgs /></RequireSession>} />
          <Route path="/consultants" element={<RequireSession><Consultants /></RequireSession>} />
          <Route path="/quarantine" element={<RequireSession><Quarantine /></RequireSession>} />
          <Route path="/contract" element={<RequireSession><Contract /></RequireSession>} />
          <Route path="*" element={<RequireSession><NotFound /></RequireSession>} />
        </Routes>
      </Suspense>
    </SessionContext.Provider>
  );
}
