/**
 * The console's one stylesheet, served as /console/assets/console.<hash>.css (./registry.ts): no
 * inline styles anywhere, so the Content-Security-Policy can say `style-src 'self'`. Laptop first,
 * readable on a phone: wide tables scroll inside their own box, forms stack.
 */
export const CONSOLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #ffffff; --text: #1b1c1f; --muted: #5b5f68; --line: #d9dbe0;
  --accent: #0b57d0; --accent-text: #ffffff; --danger: #b3261e; --ok: #1a6e34; --warn: #8a5a00;
  --focus: #f59e0b; --code: #eef0f3;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121316; --panel: #1b1d21; --text: #e6e7ea; --muted: #a2a6ae; --line: #33363c;
    --accent: #8ab4f8; --accent-text: #0b1a33; --danger: #f2b8b5; --ok: #7fd49b; --warn: #f1c76b; --code: #25282d;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: -10000px; top: 0; padding: .5rem 1rem; background: var(--panel); z-index: 10; }
.skip-link:focus { left: .5rem; top: .5rem; }
.site-header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1.25rem;
  background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.1rem; text-decoration: none; color: var(--text); }
.site-nav ul { display: flex; flex-wrap: wrap; gap: .25rem; list-style: none; margin: 0; padding: 0; }
.site-nav a { display: inline-block; padding: .35rem .7rem; border-radius: 6px; text-decoration: none; color: var(--text); }
.site-nav a[aria-current="page"] { background: var(--accent); color: var(--accent-text); }
.operator { margin-left: auto; display: flex; align-items: center; gap: .75rem; color: var(--muted); }
.operator form { margin: 0; }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; word-break: break-word; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .6rem; }
section { margin-bottom: 1.5rem; }
.breadcrumb { color: var(--muted); margin: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; padding: .5rem .75rem; color: var(--muted); }
th, td { text-align: left; padding: .45rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; background: var(--code); }
tbody tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
time { white-space: nowrap; }
td.mono, .mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
td.wrap { word-break: break-word; min-width: 12rem; }
pre { background: var(--code); padding: .75rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 0; }
.status-ok { color: var(--ok); font-weight: 600; }
.status-error { color: var(--danger); font-weight: 600; }
.status-warn { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: .75rem; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .75rem; margin: 0 0 1rem; }
.stats div { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
.stats dt { color: var(--muted); font-size: .85rem; }
.stats dd { margin: .15rem 0 0; font-size: 1.2rem; font-weight: 600; font-variant-numeric: tabular-nums; }
form.inline { display: inline; margin: 0; }
.form-row { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; margin-bottom: .75rem; }
.field { display: flex; flex-direction: column; gap: .2rem; min-width: 10rem; }
.field label, .field legend { font-weight: 600; font-size: .9rem; }
.hint { color: var(--muted); font-size: .85rem; }
fieldset { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; margin: 0 0 .75rem; }
input[type="text"], input[type="number"], input[type="search"], input:not([type]), select, textarea {
  font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; }
textarea { width: 100%; min-height: 5rem; }
button, .button { font: inherit; cursor: pointer; border-radius: 6px; padding: .35rem .8rem; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-text); text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: var(--panel); }
.notice { border-left: 4px solid var(--ok); background: var(--panel); padding: .6rem .9rem; margin: 0 0 1rem; }
.notice.error { border-left-color: var(--danger); }
.secret { border: 2px solid var(--warn); border-radius: 8px; padding: .75rem 1rem; background: var(--panel); margin-bottom: 1rem; }
.secret code { display: block; word-break: break-all; background: var(--code); padding: .5rem; border-radius: 6px; margin: .3rem 0; }
.pager { display: flex; gap: .75rem; align-items: center; margin: .6rem 0; }
.live-status { color: var(--muted); font-size: .85rem; min-height: 1.2em; }
tr.fresh td { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.files li { margin: .15rem 0; }
.files { list-style: none; padding-left: 0; }
details summary { cursor: pointer; }
@media (max-width: 640px) {
  main { padding: .75rem .6rem 2rem; }
  .site-header { padding: .5rem .6rem; }
  .operator { margin-left: 0; width: 100%; justify-content: space-between; }
  th, td { padding: .4rem .5rem; }
  .field { min-width: 100%; }
}
`;
