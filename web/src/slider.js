// A log-scaled two-handle range slider with typed values (K/M/G): byte counts are heavy
// tailed, so a linear slider would put every interesting value in its first pixel.
import { el, fmtInt, fmtSize, parseSize } from './util.js';

const STEPS = 1000;

export class LogRange {
  // label: "Bytes sent"; max: the largest value in the data.
  constructor(label, id, onchange) {
    this.max = 0;
    this.onchange = onchange;
    this.lo = el('input', { type: 'range', min: 0, max: STEPS, step: 1, value: 0, className: 'lo', 'aria-label': `${label} minimum` });
    this.hi = el('input', { type: 'range', min: 0, max: STEPS, step: 1, value: STEPS, className: 'hi', 'aria-label': `${label} maximum` });
    this.fill = el('div', { className: 'range-fill' });
    this.minText = el('input', { type: 'text', className: 'size', id: `${id}-min`, placeholder: '0', spellcheck: false, 'aria-label': `${label} minimum (bytes, K/M/G)` });
    this.maxText = el('input', { type: 'text', className: 'size', id: `${id}-max`, placeholder: 'max', spellcheck: false, 'aria-label': `${label} maximum (bytes, K/M/G)` });
    this.caption = el('span', { className: 'range-caption' });
    this.node = el('div', { className: 'field logrange', id },
      el('label', { className: 'range-label' }, `${label}: `, this.caption),
      el('div', { className: 'range-track' }, el('div', { className: 'range-bg' }), this.fill, this.lo, this.hi),
      el('div', { className: 'range-texts' }, this.minText, el('span', { className: 'dash', text: '..' }), this.maxText));
    const slid = (which) => () => {
      if (Number(this.lo.value) > Number(this.hi.value)) {
        if (which === 'lo') this.lo.value = this.hi.value;
        else this.hi.value = this.lo.value;
      }
      this.minText.value = Number(this.lo.value) === 0 ? '' : fmtSize(this.toValue(Number(this.lo.value)));
      this.maxText.value = Number(this.hi.value) === STEPS ? '' : fmtSize(this.toValue(Number(this.hi.value)));
      this.paint();
      this.onchange && this.onchange();
    };
    this.lo.addEventListener('input', slid('lo'));
    this.hi.addEventListener('input', slid('hi'));
    const typed = () => {
      this.minText.classList.remove('bad');
      this.maxText.classList.remove('bad');
      try {
        const a = parseSize(this.minText.value);
        this.lo.value = a === null ? 0 : this.toPos(a);
      } catch (e) {
        this.minText.classList.add('bad');
      }
      try {
        const b = parseSize(this.maxText.value);
        this.hi.value = b === null ? STEPS : this.toPos(b);
      } catch (e) {
        this.maxText.classList.add('bad');
      }
      this.paint();
      this.onchange && this.onchange();
    };
    this.minText.addEventListener('change', typed);
    this.maxText.addEventListener('change', typed);
  }

  setMax(max) {
    this.max = Math.max(0, Number(max) || 0);
    this.caption.textContent = `0 .. ${fmtInt(this.max)}`;
  }

  // position 0..STEPS <-> value 0..max on a log scale: v = (max+1)^(p/STEPS) - 1
  toValue(p) {
    if (p <= 0) return 0;
    if (p >= STEPS) return this.max;
    return Math.round(Math.pow(this.max + 1, p / STEPS) - 1);
  }

  toPos(v) {
    if (v <= 0 || this.max <= 0) return 0;
    if (v >= this.max) return STEPS;
    return Math.round((Math.log(v + 1) / Math.log(this.max + 1)) * STEPS);
  }

  // Values as the API wants them: '' for an open end. Throws on a bad typed value.
  get() {
    const min = parseSize(this.minText.value);
    const max = parseSize(this.maxText.value);
    return { min: min === null || min === 0 ? '' : String(min), max: max === null ? '' : String(max) };
  }

  set(min, max) {
    this.minText.classList.remove('bad');
    this.maxText.classList.remove('bad');
    let a = null;
    let b = null;
    try {
      a = parseSize(min);
    } catch (e) {
      a = null;
    }
    try {
      b = parseSize(max);
    } catch (e) {
      b = null;
    }
    this.minText.value = a ? fmtSize(a) : '';
    this.maxText.value = b === null ? '' : fmtSize(b);
    this.lo.value = a ? this.toPos(a) : 0;
    this.hi.value = b === null ? STEPS : this.toPos(b);
    this.paint();
  }

  paint() {
    const a = (Number(this.lo.value) / STEPS) * 100;
    const b = (Number(this.hi.value) / STEPS) * 100;
    this.fill.style.left = `${a}%`;
    this.fill.style.width = `${Math.max(0, b - a)}%`;
  }
}
