import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, ApiError, frenchError, unwrap, type Manifest } from "../api/client";
import { Dialog } from "../components/Dialog";
import { Field } from "../components/Field";
import { formatDateTime, formatMoney, monthLabel, parisToday } from "../i18n";
import { useCaller } from "../session";

type MonthState = { month: string; manifest: Manifest | null; error?: string };

function lastMonths(count: number): string[] {
  const [year, month] = parisToday().split("-").map(Number);
  const months: string[] = [];
  for (let i = 0; i < count; i++) {
    const date = new Date(Date.UTC(year, month - 1 - i, 1));
    months.push(`${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return months;
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} o` : `${(bytes / 1024).toFixed(1).replace(".", ",")} Ko`;
}

export default function Billing() {
  const caller = useCaller();
  const allowed = caller.role === "finance" || caller.role === "manager";
  const [months, setMonths] = useState<MonthState[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [unlocking, setUnlocking] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const current = parisToday().slice(0, 7);

  const load = useCallback(async () => {
    const states = await Promise.all(
      lastMonths(12).map(async (month): Promise<MonthState> => {
        try {
          const manifest = unwrap(await api().GET("/billing/exports/{month}", { params: { path: { month } } }));
          return { month, manifest };
        } catch (exc) {
          if (exc instanceof ApiError && exc.status === 404) return { month, manifest: null };
          return { month, manifest: null, error: frenchError(exc) };
        }
      }),
    );
    setMonths(states);
  }, []);

  useEffect(() => {
    document.title = "Facturation – Helpdesk";
    if (allowed) void load();
  }, [allowed, load]);

  const generate = async (month: string) => {
    setBusy(month);
    setNotice(null);
    try {
      unwrap(await api().POST("/billing/exports/{month}", { params: { path: { month } } }));
      setNotice(`Export de ${monthLabel(month)} généré : le mois est verrouillé.`);
      await load();
    } catch (exc) {
      setNotice(frenchError(exc));
    } finally {
      setBusy(null);
    }
  };

  const unlock = async (event: FormEvent) => {
    event.preventDefault();
    if (!unlocking) return;
    const month = unlocking;
    setBusy(month);
    try {
      unwrap(await api().POST("/billing/exports/{month}/unlock", { params: { path: { month } }, body: { reason } }));
      setNotice(`${monthLabel(month)} déverrouillé : les saisies de temps sont de nouveau acceptées.`);
      setUnlocking(null);
      setReason("");
      await load();
    } catch (exc) {
      setNotice(frenchError(exc));
    } finally {
      setBusy(null);
    }
  };

  if (!allowed) {
    return (
      <>
        <h1>Facturation</h1>
        <p role="alert">Cette page est réservée à la finance et aux managers.</p>
      </>
    );
  }

  return (
    <>
      <h1>Facturation</h1>
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {months === null ? (
        <p role="status">Chargement…</p>
      ) : (
        <ul className="months">
          {months.map(({ month, manifest, error }) => (
            <li key={month} className="card">
              <h2>{monthLabel(month)}</h2>
              {error && <p className="error">{error}</p>}
              {manifest ? (
                <>
                  <p>
                    Exporté le {formatDateTime(manifest.generated_at)} : mois verrouillé. Total{" "}
                    {formatMoney(manifest.totals.amount)}, {String(manifest.totals.minutes)} min.
                  </p>
                  {manifest.organisations.length > 0 && (
                    <ul>
                      {manifest.organisations.map((org) => (
                        <li key={org.org_id}>
                          {org.org_id} : {formatMoney(org.amount)} ({org.minutes} min de temps, {formatMoney(org.time_amount)} ;
                          chiffrages {formatMoney(org.quote_amount)})
                          {org.included_minutes !== null && org.included_minutes !== undefined
                            ? ` · forfait ${org.included_minutes} min inclus, redevance ${formatMoney(org.monthly_fee)}, dépassement ${org.overage_minutes ?? 0} min`
                            : ""}
                        </li>
                      ))}
                    </ul>
                  )}
                  <ul>
                    {manifest.files.map((file) => (
                      <li key={file.name}>
                        <a href={file.url} download={file.name}>
                          Télécharger {file.name}
                        </a>{" "}
                        ({formatSize(file.size)})
                      </li>
                    ))}
                  </ul>
                  {caller.role === "manager" && (
                    <button type="button" onClick={() => setUnlocking(month)} disabled={busy === month}>
                      Déverrouiller <span className="sr-only">{monthLabel(month)}</span>
                    </button>
                  )}
                </>
              ) : month >= current ? (
                <p>Mois en cours : l'export sera possible quand il sera terminé.</p>
              ) : (
                <>
                  <p>Non exporté.</p>
                  <button type="button" className="primary" onClick={() => void generate(month)} disabled={busy === month}>
                    Générer l'export <span className="sr-only">de {monthLabel(month)}</span>
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {unlocking && (
        <Dialog title={`Déverrouiller ${monthLabel(unlocking)}`} onClose={() => setUnlocking(null)}>
          <form onSubmit={unlock}>
            <Field label="Motif">
              {(id) => <textarea id={id} required rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />}
            </Field>
            <div className="buttons">
              <button type="submit" className="primary">
                Déverrouiller
              </button>
              <button type="button" onClick={() => setUnlocking(null)}>
                Retour
              </button>
            </div>
          </form>
        </Dialog>
      )}
    </>
  );
}
