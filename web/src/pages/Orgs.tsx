import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, frenchError, unwrap, type Org } from "../api/client";
import { Field } from "../components/Field";
import { formatMoney } from "../i18n";
import { useCaller } from "../session";

interface Form {
  org_id: string;
  name: string;
  email_domains: string;
  auto_close_days: string;
  quote_validity_days: string;
  hourly_rate: string;
  // The contract (DESIGN.md §10) as read: PUT replaces the organisation, so an edit sends it
  // back unchanged (a new organisation gets the defaults).
  contract: Org["contract"] | null;
}

const EMPTY: Form = { org_id: "", name: "", email_domains: "", auto_close_days: "7", quote_validity_days: "30", hourly_rate: "", contract: null };

function toForm(org: Org): Form {
  return {
    org_id: org.org_id,
    name: org.name,
    email_domains: org.email_domains.join(", "),
    auto_close_days: String(org.auto_close_days),
    quote_validity_days: String(org.quote_validity_days),
    hourly_rate: org.hourly_rate ?? "",
    contract: org.contract,
  };
}

export default function Orgs() {
  const caller = useCaller();
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [listed, setListed] = useState<boolean | null>(null);
  const [lookup, setLookup] = useState("");
  const [form, setForm] = useState<Form>(EMPTY);
  const [notice, setNotice] = useState<string | null>(null);

  const remember = (org: Org) =>
    setOrgs((list) => [...list.filter((o) => o.org_id !== org.org_id), org].sort((a, b) => a.org_id.localeCompare(b.org_id)));

  useEffect(() => {
    document.title = "Organisations – Helpdesk";
    // GET /orgs (staff); organisations can still be opened by id.
    api()
      .GET("/orgs")
      .then((result) => {
        setOrgs(unwrap(result).items);
        setListed(true);
      })
      .catch(() => setListed(false));
  }, []);

  const open = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    try {
      const org = unwrap(await api().GET("/orgs/{org_id}", { params: { path: { org_id: lookup.trim() } } }));
      remember(org);
      setForm(toForm(org));
    } catch (exc) {
      setNotice(exc instanceof ApiError && exc.status === 404 ? `Aucune organisation « ${lookup} ».` : frenchError(exc));
    }
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    try {
      const org = unwrap(
        await api().PUT("/orgs/{org_id}", {
          params: { path: { org_id: form.org_id.trim() } },
          body: {
            name: form.name,
            email_domains: form.email_domains.split(/[\s,]+/).filter(Boolean),
            auto_close_days: Number(form.auto_close_days),
            quote_validity_days: Number(form.quote_validity_days),
            currency: "EUR",
            hourly_rate: form.hourly_rate.trim() ? form.hourly_rate.trim().replace(",", ".") : null,
            contract: form.contract,
          },
        }),
      );
      remember(org);
      setNotice(`Organisation ${org.org_id} enregistrée.`);
    } catch (exc) {
      setNotice(frenchError(exc));
    }
  };

  if (caller.role !== "manager") {
    return (
      <>
        <h1>Organisations</h1>
        <p role="alert">Cette page est réservée aux managers.</p>
      </>
    );
  }

  return (
    <>
      <h1>Organisations</h1>
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {listed === false && (
        <p className="hint">La liste des organisations n'est pas encore disponible dans l'API : ouvrez-en une par son identifiant.</p>
      )}
      <form onSubmit={open} className="inline">
        <Field label="Identifiant de l'organisation">
          {(id) => <input id={id} required value={lookup} onChange={(e) => setLookup(e.target.value)} />}
        </Field>
        <button type="submit">Ouvrir</button>
      </form>
      {orgs.length > 0 && (
        <ul className="cards">
          {orgs.map((org) => (
            <li key={org.org_id} className="card">
              <h2>{org.name}</h2>
              <p>
                {org.org_id} · domaines {org.email_domains.join(", ") || "—"} · fermeture automatique après {org.auto_close_days} jours · chiffrages valables {org.quote_validity_days} jours ·
                taux horaire {org.hourly_rate ? formatMoney(org.hourly_rate, org.currency) : "aucun"}
              </p>
              <button type="button" onClick={() => setForm(toForm(org))}>
                Modifier <span className="sr-only">{org.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <h2>Créer ou modifier</h2>
      <form onSubmit={save} className="stack">
        <Field label="Identifiant">
          {(id) => <input id={id} required value={form.org_id} onChange={(e) => setForm({ ...form, org_id: e.target.value })} />}
        </Field>
        <Field label="Nom">
          {(id) => <input id={id} required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <Field label="Domaines de courriel" hint="Séparés par des virgules">
          {(id) => <input id={id} value={form.email_domains} onChange={(e) => setForm({ ...form, email_domains: e.target.value })} />}
        </Field>
        <Field label="Jours avant fermeture automatique">
          {(id) => <input id={id} type="number" min={1} max={365} value={form.auto_close_days} onChange={(e) => setForm({ ...form, auto_close_days: e.target.value })} />}
        </Field>
        <Field label="Validité des chiffrages (jours)">
          {(id) => <input id={id} type="number" min={1} max={365} value={form.quote_validity_days} onChange={(e) => setForm({ ...form, quote_validity_days: e.target.value })} />}
        </Field>
        <Field label="Taux horaire (€)">
          {(id) => <input id={id} inputMode="decimal" value={form.hourly_rate} onChange={(e) => setForm({ ...form, hourly_rate: e.target.value })} />}
        </Field>
        <button type="submit" className="primary">
          Enregistrer l'organisation
        </button>
      </form>
    </>
  );
}
