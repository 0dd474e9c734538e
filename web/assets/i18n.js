/*
 * hourglass: the pages' language. Picks one of the tables of strings.js
 * (window.HG_STRINGS): the one chosen with the sign-in page's switch
 * (localStorage, which the kiosk's reset wipes with the browser's profile,
 * so the next person starts from the browser's languages again), else the
 * first of navigator.languages there is a table for, else English.
 *
 * window.hourglassI18n:
 *   lang, dir             the language in use
 *   languages             [{code, name}] of every table
 *   t(key, vars)          the text, {name} filled from vars
 *   duration(sec, width)  "10 minutes", "10 Minuten" (Intl; width "long",
 *                         "short" or "narrow")
 *   time(date)            "3:42 PM", "15:42" (Intl)
 *   day(date, withDate)   "Monday", "Montag" (Intl); withDate: "Monday,
 *                         12 January"
 *   daysFromToday(date)   0 today, 1 tomorrow, ... (local calendar days)
 *   span(sec)             "1 hr 20 min", "1 Std. 20 Min." (Intl), whole
 *                         minutes rounded up; under a minute, seconds
 *   clock(sec)            "4:05" with the language's digits
 *   number(n)             "2", "1 000" (Intl)
 *   setLanguage(code)     switch (and remember it), re-apply the page, and
 *                         tell listeners: window event "hourglass:language"
 *   apply()               fill the data-i18n elements again
 *
 * Elements carrying data-i18n="key" get their text from the table (the
 * HTML has the English text inline, so the pages read fine before this
 * runs): put data-i18n only on elements whose whole content is that text.
 * The document's lang and dir follow the language only on pages whose
 * <html> says data-i18n-root (ours): client.js loads this file into
 * operators' pages too, whose language is theirs.
 */
(function () {
  'use strict';

  if (window.hourglassI18n) return;

  const STORE_KEY = 'hourglass.lang';
  const FALLBACK = 'en';

  /* strings.js of an older WebRoot held one flat table with meta.lang. */
  function tables() {
    const raw = window.HG_STRINGS || {};
    if (typeof raw['meta.lang'] === 'string') {
      const one = {};
      one[raw['meta.lang']] = raw;
      return one;
    }
    return raw;
  }

  const TABLES = tables();
  const CODES = Object.keys(TABLES).filter((c) => TABLES[c] && typeof TABLES[c] === 'object');

  function stored() {
    try { return localStorage.getItem(STORE_KEY) || ''; } catch (e) { return ''; }
  }

  function remember(code) {
    try { localStorage.setItem(STORE_KEY, code); } catch (e) { /* no storage: this page only */ }
  }

  /* "de-AT" finds "de-AT", then "de". */
  function match(tag) {
    if (typeof tag !== 'string' || !tag) return null;
    const lower = tag.toLowerCase();
    const exact = CODES.find((c) => c.toLowerCase() === lower);
    if (exact) return exact;
    const primary = lower.split('-')[0];
    return CODES.find((c) => c.toLowerCase() === primary) || null;
  }

  function choose() {
    const wanted = [stored()].concat(Array.from(navigator.languages || [navigator.language]));
    for (const tag of wanted) {
      const code = match(tag);
      if (code) return code;
    }
    return CODES.includes(FALLBACK) ? FALLBACK : (CODES[0] || FALLBACK);
  }

  let lang = choose();

  function text(key) {
    const own = TABLES[lang] || {};
    if (typeof own[key] === 'string') return own[key];
    const base = TABLES[FALLBACK] || {};
    return typeof base[key] === 'string' ? base[key] : key;
  }

  function t(key, vars) {
    const s = text(key);
    if (!vars) return s;
    return s.replace(/\{(\w+)\}/g, (all, name) =>
      (Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all));
  }

  /* Whole minutes from two minutes on (or when it is a whole number of
   * them), else seconds. */
  function duration(sec, width) {
    const s = Math.max(0, Math.round(Number(sec) || 0));
    const minutes = s >= 60 && (s % 60 === 0 || s >= 120);
    const value = minutes ? Math.round(s / 60) : s;
    const unit = minutes ? 'minute' : 'second';
    try {
      return new Intl.NumberFormat(lang, { style: 'unit', unit: unit, unitDisplay: width || 'long' }).format(value);
    } catch (e) {
      return value + (minutes ? ' min' : ' s');
    }
  }

  function time(date) {
    try {
      return new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' }).format(date);
    } catch (e) {
      return date.toTimeString().slice(0, 5);
    }
  }

  function day(date, withDate) {
    const opts = withDate ? { weekday: 'long', day: 'numeric', month: 'long' } : { weekday: 'long' };
    try {
      return new Intl.DateTimeFormat(lang, opts).format(date);
    } catch (e) {
      return date.toDateString();
    }
  }

  /* Calendar days, not 24 h periods: a DST change makes a day 23 or 25 h. */
  function daysFromToday(date) {
    const now = new Date();
    const a = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    const b = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
    return Math.round((b - a) / 86400000);
  }

  /* A time left of an hour or more: hours and minutes, never "80 minutes";
   * rounded up, so the last seconds do not read "0 minutes". */
  function span(sec) {
    const s = Math.max(0, Math.ceil(Number(sec) || 0));
    if (s < 60) return duration(s, 'short');
    const minutes = Math.ceil(s / 60);
    const h = Math.floor(minutes / 60), m = minutes % 60;
    const unit = (u, n) => {
      try {
        return new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'short' }).format(n);
      } catch (e) {
        return n + (u === 'hour' ? ' h' : ' min');
      }
    };
    const parts = [];
    if (h) parts.push(unit('hour', h));
    if (m || !h) parts.push(unit('minute', m));
    return parts.join(' ');
  }

  function clock(sec) {
    const s = Math.max(0, Math.floor(sec));
    try {
      const n = new Intl.NumberFormat(lang, { useGrouping: false });
      const two = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false });
      return n.format(Math.floor(s / 60)) + ':' + two.format(s % 60);
    } catch (e) {
      return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
    }
  }

  function number(n) {
    try {
      return new Intl.NumberFormat(lang).format(n);
    } catch (e) {
      return String(n);
    }
  }

  function apply() {
    const root = document.documentElement;
    if (root.hasAttribute('data-i18n-root')) {
      root.lang = lang;
      root.dir = text('meta.dir') === 'rtl' ? 'rtl' : 'ltr';
    }
    document.querySelectorAll('[data-i18n]').forEach((node) => {
      node.textContent = t(node.getAttribute('data-i18n'));
    });
  }

  function setLanguage(code) {
    const found = match(code);
    if (!found) return false;
    remember(found);
    if (found === lang) return true;
    lang = found;
    apply();
    window.dispatchEvent(new CustomEvent('hourglass:language', { detail: { lang: lang } }));
    return true;
  }

  window.hourglassI18n = Object.freeze({
    get lang() { return lang; },
    get dir() { return text('meta.dir') === 'rtl' ? 'rtl' : 'ltr'; },
    languages: CODES.map((c) => ({ code: c, name: (TABLES[c] && TABLES[c]['meta.name']) || c })),
    t: t,
    duration: duration,
    time: time,
    day: day,
    daysFromToday: daysFromToday,
    span: span,
    clock: clock,
    number: number,
    setLanguage: setLanguage,
    apply: apply
  });

  /* Loaded with defer (or after the page by client.js): the document is parsed. */
  apply();
})();
