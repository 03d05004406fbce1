import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, frenchError, unwrap, type Consultant } from "../api/client";
import { Field } from "../components/Field";
import { useCaller } from "../session";

type Role = "consultant" | "manager";
const EMPTY = { id: "", name: "", email: "", level: "1", role: "consultant" as Role, active: true };

export default function Consultants() {
  const caller = useCaller();
  const [items, setItems] = useState<Consultant[] | null>(null);
  const [form, setForm] = useState(EMPTY);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setItems(unwrap(await api().GET("/consultants")).items);
    } catch (exc) {
      setNotice(frenchError(exc));
      setItems([]);
    }
  }, []);

  useEffect(() => {
    document.title = "Consultants – Helpdesk";
    if (caller.role === "manager") void load();
  }, [caller.role, load]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const saved = unwrap(
        await api().PUT("/consultants/{id}", {
          params: { path: { id: form.id.trim() } },
          body: {
            name: form.name,
            email: form.email,
            level: form.level ? Number(form.level) : null,
            role: form.role,
            active: form.active,
          },
        }),
      );
      setNotice(`${saved.name} (${saved.id}) enregistré.`);
      setForm(EMPTY);
      setEditing(false);
      await load();
    } catch (exc) {
      setNotice(frenchError(exc));
    }
  };

  if (caller.role !== "manager") {
    return (
      <>
        <h1>Consultants</h1>
        <p role="alert">Cette page est réservée aux managers.</p>
      </>
    );
  }

  return (
    <>
      <h1>Consultants</h1>
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {items === null ? (
        <p role="status">Chargement…</p>
      ) : (
        <table>
          <caption className="sr-only">L'équipe de support</caption>
          <thead>
            <tr>
              <th scope="col">Nom</th>
              <th scope="col">Identifiant</th>
              <th scope="col">Courriel</th>
              <th scope="col">Niveau</th>
              <th scope="col">Rôle</th>
              <th scope="col">Actif</th>
              <th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{c.id}</td>
                <td>{c.email}</td>
                <td>{c.level ?? "—"}</td>
                <td>{c.role === "manager" ? "manager" : "consultant"}</td>
                <td>{c.active ? "oui" : "non"}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => {
                      setForm({ id: c.id, name: c.name, email: c.email, level: c.level == null ? "" : String(c.level), role: c.role, active: c.active });
                      setEditing(true);
                    }}
                  >
                    Modifier <span className="sr-only">{c.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{editing ? `Modifier ${form.id}` : "Ajouter un consultant"}</h2>
      <form onSubmit={save} className="stack">
        <Field label="Identifiant">
          {(id) => <input id={id} required readOnly={editing} value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} />}
        </Field>
        <Field label="Nom">
          {(id) => <input id={id} required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <Field label="Courriel">
          {(id) => <input id={id} type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />}
        </Field>
        <Field label="Niveau">
          {(id) => (
            <select id={id} value={form.level} onChange={(e) => setForm({ ...form, level: e.target.value })}>
              {form.role === "manager" && <option value="">aucun</option>}
              <option value="1">1</option>
              <option value="2">2</option>
              <option value="3">3</option>
            </select>
          )}
        </Field>
        <Field label="Rôle">
          {(id) => (
            <select id={id} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
              <option value="consultant">consultant</option>
              <option value="manager">manager</option>
            </select>
          )}
        </Field>
        <div className="field checkbox">
          <input id="consultant-active" type="checkbox" checked={form.active} onChange={(e) => setForm({ ...form, active: e.target.checked })} />
          <label htmlFor="consultant-active">Actif</label>
        </div>
        <div className="buttons">
          <button type="submit" className="primary">
            Enregistrer le consultant
          </button>
          {editing && (
            <button type="button" onClick={() => { setForm(EMPTY); setEditing(false); }}>
              Nouveau consultant
            </button>
          )}
        </div>
      </form>
    </>
  );
}
