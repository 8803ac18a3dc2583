// A page of the console not built yet: says so, and what to use meanwhile.
export function ComingNext({ title, what, meanwhile }: { title: string; what: string; meanwhile: string }) {
  return (
    <section className="page">
      <header className="page__header">
        <h1 className="page__title">{title}</h1>
      </header>
      <div className="empty">
        <div className="empty__badge" aria-hidden="true">…</div>
        <h2 className="empty__title">Coming next</h2>
        <p className="empty__text">{what}</p>
        <p className="empty__text muted">
          Meanwhile: <code>{meanwhile}</code>
        </p>
      </div>
    </section>
  );
}
