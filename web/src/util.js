// DOM and formatting helpers. Every string that may come from a log is put into the page
// with textContent (through el()), never as HTML.

// el('div', {className: 'x', onclick: fn, dataset: {...}, style: {...}}, child, 'text', ...)
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'style') Object.assign(e.style, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = String(v);
      else if (k in e && k !== 'list') e[k] = v;
      else e.setAttribute(k, String(v));
    }
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.appendChild(c);
    else e.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.appendChild(c);
  return e;
}

const nf = new Intl.NumberFormat('en-US');
export function fmtInt(n) {
  if (n === null || n === undefined || n === '') return '';
  return typeof n === 'number' ? nf.format(n) : String(n);
}

// 1234567 -> "1.23 MB" (powers of 1000, like the filter language's K/M/G).
export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + units[i];
}

// Short size for typed inputs when exact: 1500 -> "1.5K", 2000000 -> "2M", 1234567 -> "1234567".
export function fmtSize(n) {
  if (n === null || n === undefined || n === '') return '';
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = Number(n);
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const text = String(Number(v.toFixed(3))) + units[i];
  return i && Math.round(Number(v.toFixed(3)) * Math.pow(1000, i)) === Number(n) ? text : String(n);
}

// "1.5M" -> 1500000, "10Ki" -> 10240, "" -> null; throws on nonsense.
export function parseSize(s) {
  s = String(s).trim().replace(/[,_\s]/g, '');
  if (s === '') return null;
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?)b?$/i.exec(s);
  if (!m) throw new Error(`'${s}' is not a byte count (use 1500, 10K, 1.5M, 2G)`);
  const base = m[3] ? 1024 : 1000;
  const pow = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  const v = Number(m[1]) * Math.pow(base, pow);
  if (!Number.isFinite(v) || v > Number.MAX_SAFE_INTEGER) throw new Error(`'${s}' is too large`);
  return Math.round(v);
}

// µs since the epoch or ISO text -> "2022-11-04 10:00:00" (UTC).
export function fmtTime(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z?$/.exec(v);
    return m ? `${m[1]} ${m[2]}` : v;
  }
  const d = new Date(Math.floor(v / 1000));
  return d.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
}

export function debounce(fn, ms) {
  let t = null;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
