// Contacts: search by email, user id or phone; filter by tag or segment; a row opens the profile.
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Empty, Failure, Loading, PageHeader } from "../common/parts";
import { moment } from "../common/format";
import { filterQuery, filtersFrom, filtersToSearch, NO_FILTERS, type ContactFilters } from "./story";

export type Contact = components["schemas"]["ContactOut"];

/** What to call a contact in lists: the email, else the user id, else the number. */
export function contactLabel(contact: { id: number; email: string | null; user_id: string | null }): string {
  return contact.email ?? contact.user_id ?? `Contact ${contact.id}`;
}

export function ContactsTable({ rows, filtered }: { rows: Contact[]; filtered: boolean }) {
  if (rows.length === 0) {
    return filtered ? (
      <Empty badge="?" title="No contact matches these filters">
        <p className="empty__text">Check the spelling, or clear the filters to see everyone.</p>
      </Empty>
    ) : (
      <Empty badge="+" title="No contacts yet">
        <p className="empty__text">
          Contacts appear when your site or app sends events to <code>/v1/track</code> or{" "}
          <code>/v1/identify</code>, or when you import a file:
        </p>
        <p className="empty__text">
          <code>tidings contacts import contacts.csv</code>
        </p>
      </Empty>
    );
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Contact</th>
          <th scope="col">User id</th>
          <th scope="col">Tags</th>
          <th scope="col" className="num">Score</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id}>
            <td>
              <Link className="table__link" href={`/contacts/${row.id}`}>
                {contactLabel(row)}
              </Link>
            </td>
            <td>{row.user_id ? <code>{row.user_id}</code> : <span className="muted">anonymous</span>}</td>
            <td>
              <span className="chips">
                {row.tags.map((tag) => (
                  <span key={tag} className="chip">
                    {tag}
                  </span>
                ))}
              </span>
            </td>
            <td className="num">{row.score.toFixed(1)}</td>
            <td className="muted">{moment(row.updated_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const PAGE = 50;

export function ContactsPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const applied = filtersFrom(search);
  const [draft, setDraft] = useState<ContactFilters>(applied);
  const [pages, setPages] = useState<number[]>([0]); // the `after` of each page seen
  // The address is the truth: when it changes (Back, a link), start at its first page and
  // show its filters, rather than keep the cursor of another search.
  const [seen, setSeen] = useState(search);
  if (seen !== search) {
    setSeen(search);
    setPages([0]);
    setDraft(applied);
  }
  const after = pages[pages.length - 1] ?? 0;
  const segments = useQuery({ queryKey: ["segments"], queryFn: () => unwrap(api.GET("/api/segments")) });
  const contacts = useQuery({
    queryKey: ["contacts", filterQuery(applied), after],
    queryFn: () =>
      unwrap(api.GET("/api/contacts", { params: { query: { ...filterQuery(applied), after, limit: PAGE } } })),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setPages([0]);
    navigate(`/contacts${filtersToSearch(draft)}`);
  };
  const clear = () => {
    setDraft(NO_FILTERS);
    setPages([0]);
    navigate("/contacts");
  };
  const filtered = Object.keys(filterQuery(applied)).length > 0;
  const rows = contacts.data ?? [];

  return (
    <section className="page">
      <PageHeader title="Contacts" />
      <form className="toolbar" role="search" onSubmit={submit}>
        <label className="toolbar__field toolbar__field--wide">
          <span className="field__label">Search</span>
          <input
            className="input"
            type="search"
            placeholder="Email, user id or phone"
            value={draft.q}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          />
        </label>
        <label className="toolbar__field">
          <span className="field__label">Tag</span>
          <input className="input" value={draft.tag} onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />
        </label>
        <label className="toolbar__field">
          <span className="field__label">Segment</span>
          <select
            className="input"
            value={draft.segment}
            onChange={(e) => setDraft({ ...draft, segment: e.target.value })}
          >
            <option value="">Any segment</option>
            {(segments.data ?? []).map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <div className="toolbar__buttons">
          <button type="submit" className="button button--primary">
            Search
          </button>
          {filtered && (
            <button type="button" className="button button--ghost" onClick={clear}>
              Clear
            </button>
          )}
        </div>
      </form>
      {contacts.isPending && <Loading what="contacts" />}
      {contacts.isError && <Failure error={contacts.error} />}
      {contacts.data && <ContactsTable rows={rows} filtered={filtered || after > 0} />}
      {contacts.data && (pages.length > 1 || rows.length === PAGE) && (
        <div className="pager">
          <button
            type="button"
            className="button"
            disabled={pages.length === 1}
            onClick={() => setPages(pages.slice(0, -1))}
          >
            Previous
          </button>
          <span className="muted">Page {pages.length}</span>
          <button
            type="button"
            className="button"
            disabled={rows.length < PAGE}
            onClick={() => setPages([...pages, rows[rows.length - 1]?.id ?? after])}
          >
            Next
          </button>
        </div>
      )}
    </section>
  );
}
