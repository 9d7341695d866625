/**
 * The store's one stylesheet, served from memory at /static/style.css so the store works offline and needs no build
 * step. Mobile first: one column, cards flow into a grid on wider screens. Colours pass WCAG AA contrast; focus is
 * always visible; dark mode follows the system.
 */
export const STYLESHEET = `
:root{--bg:#faf7f2;--fg:#1f1b16;--muted:#5e564c;--card:#fff;--line:#e4ddd2;--brand:#7a2e1a;--brand-fg:#fff;
--link:#0b57a4;--ok-bg:#e2f3e4;--ok-fg:#135c24;--low-bg:#fff1d6;--low-fg:#7a4a00;--no-bg:#fbe3e1;--no-fg:#8f1d14;
--head-bg:#7a2e1a;--head-fg:#fff;--focus:#e39b00;color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
line-height:1.5;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--bg:#1b1916;--fg:#f1ece4;--muted:#b9afa2;--card:#25221e;--line:#3a352f;
--brand:#e0805f;--brand-fg:#1b1916;--link:#8cc1ff;--ok-bg:#17361d;--ok-fg:#a6e3b0;--low-bg:#3b2c0c;--low-fg:#f5cd7a;
--no-bg:#441914;--no-fg:#ffb4a9;--head-bg:#3d1c12;--head-fg:#f6e6df}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
.wrap{width:100%;max-width:62rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:var(--card);padding:.5rem;z-index:1}
.site-header{background:var(--head-bg);color:var(--head-fg)}
.site-header .wrap{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem;padding-top:.75rem;padding-bottom:.75rem}
.brand{font:700 1.6rem/1.1 Georgia,"Times New Roman",serif;color:inherit;text-decoration:none}
.tagline{opacity:.9;font-size:.95rem}
main.wrap{flex:1;padding-top:1.25rem;padding-bottom:2rem}
h1,h2{font-family:Georgia,"Times New Roman",serif;line-height:1.2}h1{font-size:1.9rem;margin:.25rem 0 .75rem}
h2{font-size:1.3rem;margin:1.75rem 0 .75rem}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,.button:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.lead{color:var(--muted);margin-top:0}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:1rem 0}
.search label{flex-basis:100%;font-weight:600}
.search input{flex:1;min-width:0;font-size:1rem;padding:.55rem .7rem;border:1px solid var(--line);border-radius:.4rem;
background:var(--card);color:var(--fg)}
button,.button{display:inline-block;font-family:inherit;font-size:1rem;font-weight:600;line-height:1.2;padding:.6rem 1.1rem;border-radius:.4rem;
border:1px solid var(--brand);background:var(--brand);color:var(--brand-fg);cursor:pointer;text-decoration:none}
.button.secondary{background:transparent;color:var(--link);border-color:var(--line)}
button[disabled]{background:var(--line);border-color:var(--line);color:var(--muted);cursor:not-allowed}
.chips{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem}
.chips a{display:inline-block;padding:.35rem .85rem;border:1px solid var(--line);border-radius:2rem;background:var(--card);
text-decoration:none}
.grid{list-style:none;padding:0;margin:0;display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1rem;display:flex;
flex-direction:column;gap:.5rem}
.card h3{font:600 1.05rem/1.3 Georgia,"Times New Roman",serif;margin:0}.card h3 a{text-decoration:none}
.card h3 a:hover{text-decoration:underline}
.meta{color:var(--muted);font-size:.9rem;margin:0}
.card .foot{margin-top:auto;display:flex;justify-content:space-between;align-items:center;gap:.5rem}
.price{font-weight:700;font-size:1.1rem}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:1rem;font-size:.85rem;font-weight:600;white-space:nowrap}
.in-stock{background:var(--ok-bg);color:var(--ok-fg)}.low-stock{background:var(--low-bg);color:var(--low-fg)}
.sold-out{background:var(--no-bg);color:var(--no-fg)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1.25rem;max-width:36rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1.25rem;margin:0 0 1.25rem}
.facts dt{font-weight:600;color:var(--muted)}.facts dd{margin:0}
.note{color:var(--muted);font-size:.95rem}
.ways{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-top:1.25rem}
.pager{display:flex;justify-content:space-between;gap:1rem;margin:1.25rem 0}
.notice{border-left:4px solid var(--no-fg);background:var(--no-bg);color:var(--fg);padding:.75rem 1rem;border-radius:.3rem}
.notice.ok{border-color:var(--ok-fg);background:var(--ok-bg)}
code{font-size:.95em;word-break:break-all}
.table-wrap{overflow-x:auto}
.status{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);font-size:.95rem}
.status th,.status td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid var(--line);vertical-align:top}
.status th{color:var(--muted);font-weight:600}.status td code{word-break:normal;white-space:nowrap}.status td.num{text-align:right;font-variant-numeric:tabular-nums}
.site-footer{border-top:1px solid var(--line);color:var(--muted);font-size:.85rem}
.site-footer .wrap{padding-top:.75rem;padding-bottom:.75rem}
`;
