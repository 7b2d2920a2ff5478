import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api.js';
import { BASE, navigate } from './router.js';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs `load` now and on reload(); keeps the last good data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setError(describeError(err));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** An action button's state: busy while running, the failure shown next to it. */
export function useAction(): { busy: boolean; error: string | undefined; run(action: () => Promise<void>): Promise<void>; clear(): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

export function ErrorText({ error }: { error: string | undefined }): JSX.Element | null {
  if (error === undefined) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Link({ href, children, ...rest }: { href: string; children: ComponentChildren } & JSX.HTMLAttributes<HTMLAnchorElement>): JSX.Element {
  const url = `${BASE}${href}`;
  return (
    <a
      {...rest}
      href={url}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(url);
      }}
    >
      {children}
    </a>
  );
}

/**
 * A modal on the native <dialog>: the browser traps focus, Escape closes it,
 * and focus returns to where it was. `wide` for one holding a table of many columns.
 */
export function Dialog({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  // A dialog replaced by another (a form by its one-time result) closes without closing the flow.
  const unmounting = useRef(false);
  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement as HTMLElement | null;
    if (dialog !== null && !dialog.open) dialog.showModal();
    return () => {
      unmounting.current = true;
      dialog?.close();
      before?.focus();
    };
  }, []);
  const id = `dlg-${title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  return (
    <dialog
      ref={ref}
      class={wide ? 'wide' : undefined}
      aria-labelledby={id}
      onClose={() => {
        if (!unmounting.current) onClose();
      }}
    >
      <h2 id={id}>{title}</h2>
      {children}
      <div class="actions">
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}

/** A secret shown once: kept only in the caller's state, dropped when the dialog closes. */
export function SecretDialog({ title, label, value, note, onClose }: { title: string; label: string; value: string; note: string; onClose: () => void }): JSX.Element {
  const [copied, setCopied] = useState(false);
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{note}</p>
      <label for="secret-value">{label}</label>
      <input id="secret-value" class="secret" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
      <p>
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true), () => setCopied(false));
          }}
        >
          Copy
        </button>{' '}
        <span role="status">{copied ? 'Copied.' : ''}</span>
      </p>
    </Dialog>
  );
}

/**
 * A table of `rows` under column headers, with `empty` said below it once the
 * list loaded empty. A header given as false is a column this role does not see.
 * `row` returns the whole <tr> (with its key), so rows keep their own data attributes.
 */
export function DataTable<T>({
  columns,
  rows,
  row,
  empty,
  caption,
  ...attrs
}: {
  columns: Array<string | false>;
  rows: T[] | undefined;
  row: (item: T) => JSX.Element;
  empty?: string;
  caption?: string;
} & Omit<JSX.HTMLAttributes<HTMLTableElement>, 'rows'>): JSX.Element {
  return (
    <>
      <table {...attrs}>
        {caption === undefined ? null : <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) =>
              c === false ? null : (
                <th scope="col" key={c}>
                  {c}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{(rows ?? []).map((item) => row(item))}</tbody>
      </table>
      {empty !== undefined && rows?.length === 0 ? <p>{empty}</p> : null}
    </>
  );
}

/** An audit event's actor as one line: "operator alice", "agent ci", "system". */
export function actorLabel(actor: { type: string; name?: string | null }): string {
  return actor.name === null || actor.name === undefined ? actor.type : `${actor.type} ${actor.name}`;
}

export function Field({ id, label, children, hint }: { id: string; label: string; children: ComponentChildren; hint?: string }): JSX.Element {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint === undefined ? null : (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** "in 5 min" / "3 h ago", for expiry columns. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 90 ? `${abs} s` : abs < 5400 ? `${Math.round(abs / 60)} min` : abs < 172800 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

export function Status({ value }: { value: string }): JSX.Element {
  return <span class={`status status-${value.replace(/[^a-z_]/g, '')}`}>{value}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }): JSX.Element {
  useEffect(() => {
    document.title = `${title} · Latchkey console`;
  }, [title]);
  return (
    <div class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children}
    </div>
  );
}

export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
