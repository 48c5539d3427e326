// Renxing "one map": web front end of the plan-implementation monitoring network.
// Plain ES module, no build step. MapLibre GL JS is loaded before this file as the global
// `maplibregl` (vendor/maplibre-gl.js). All user-visible strings live in I18N below.

const I18N = {
  zh: {
    title: '国土空间规划实施监测网络',
    login_name: '用户名', login_password: '密码', login: '登录', logout: '退出',
    login_failed: '用户名或密码错误', login_rate_limited: '尝试过于频繁，请稍后再试',
    logged_in_as: '已登录：{name}（{role} @ {unit}）',
    session_expired: '登录已失效，请重新登录',
    public_view: '公开视图 · 仅显示已发布数据', internal_view: '内部视图 · 含未发布数据',
    role_viewer: '查看员', role_editor: '填报员', role_reviewer: '审核员', role_admin: '管理员',
    level_nation: '国家', level_province: '省', level_city: '市', level_county: '县', level_township: '乡镇',
    units: '行政单元', indicator: '指标', year: '年份', colour_by: '着色方式',
    by_warning: '按预警', by_value: '按数值', warnings: '预警', no_warnings: '无预警',
    footer: 'Renxing 韧性 · 开源国土空间规划工具',
    kind_binding: '约束性', kind_expected: '预期性',
    dir_at_least: '不低于目标', dir_at_most: '不高于目标', dir_none: '—',
    status_submitted: '已提交', status_published: '已发布',
    col_name: '指标', col_unit: '单位', col_kind: '类型', col_direction: '方向', col_value: '数值',
    col_target: '目标', col_status: '状态', col_warning: '预警', col_messages: '预警信息', col_edit: '填报 / 审核',
    submit: '提交', approve_one: '发布', approve_year: '发布 {year} 年已提交数据',
    accepted: '已提交 {n} 项', approved: '已发布 {n} 项', err_number: '请输入数值',
    level_green: '绿色 · 正常', level_yellow: '黄色 · 关注', level_red: '红色 · 超标', level_none: '无目标 / 无数据',
    legend_warning: '预警等级', no_data: '无数据', no_boundary: '无边界',
    note_parent: '下级单元无边界数据，地图显示上级 {name}', note_empty: '该单元及其下级无边界数据',
    chart_title: '{indicator} · {unit}', chart_empty: '该指标暂无数值或目标',
    chart_published: '已发布', chart_submitted: '已提交（未发布）', chart_target: '目标',
    reason_beyond_target: '超出目标：{value}，目标 {target}（{year} 年）',
    reason_off_track: '按近年趋势难以达到 {year} 年目标 {target}',
    reason_missing: '{year} 年数值逾期未报',
    table_title: '{unit} · {year} 年指标', children_none: '无下级单元',
    value: '数值', status: '状态', warning: '预警', unknown_unit: '未知单元 {code}',
    loading: '加载中…', error: '错误',
    rollup: '下级汇总（{year} 年）：{value}', rollup_complete: '完整', rollup_missing: '不完整，缺 {n} 个：{names}',
    export_csv: '导出 CSV', export_gpkg: '导出 GeoPackage', downloaded: '已下载 {name}',
    plans: '规划', no_plans: '无规划', plan_kind_master: '总体规划', plan_kind_detailed: '详细规划', plan_kind_special: '专项规划',
    plan_draft: '草稿', plan_submitted: '已报批', plan_approved: '已批准', plan_superseded: '已被替代',
    plan_line: '{kind} · {start}–{end} 年 · 第 {version} 版 · {n} 项目标',
  },
  en: {
    title: 'Planning implementation monitoring',
    login_name: 'Name', login_password: 'Password', login: 'Log in', logout: 'Log out',
    login_failed: 'Wrong name or password', login_rate_limited: 'Too many attempts, try again later',
    logged_in_as: 'Logged in as {name} ({role} @ {unit})',
    session_expired: 'Session expired, please log in again',
    public_view: 'Public view · published values only', internal_view: 'Internal view · includes unpublished values',
    role_viewer: 'viewer', role_editor: 'editor', role_reviewer: 'reviewer', role_admin: 'admin',
    level_nation: 'nation', level_province: 'province', level_city: 'city', level_county: 'county', level_township: 'township',
    units: 'Administrative units', indicator: 'Indicator', year: 'Year', colour_by: 'Colour by',
    by_warning: 'Warning', by_value: 'Value', warnings: 'Warnings', no_warnings: 'No warnings',
    footer: 'Renxing · open-source territorial-spatial planning',
    kind_binding: 'Binding', kind_expected: 'Expected',
    dir_at_least: 'At least target', dir_at_most: 'At most target', dir_none: '—',
    status_submitted: 'Submitted', status_published: 'Published',
    col_name: 'Indicator', col_unit: 'Unit', col_kind: 'Type', col_direction: 'Direction', col_value: 'Value',
    col_target: 'Target', col_status: 'Status', col_warning: 'Warning', col_messages: 'Warning messages', col_edit: 'Submit / approve',
    submit: 'Submit', approve_one: 'Publish', approve_year: 'Approve (publish) {year}',
    accepted: '{n} value(s) submitted', approved: '{n} value(s) published', err_number: 'Enter a number',
    level_green: 'Green · on target', level_yellow: 'Yellow · attention', level_red: 'Red · beyond target', level_none: 'No target / no data',
    legend_warning: 'Warning level', no_data: 'No data', no_boundary: 'no boundary',
    note_parent: 'The units below have no boundaries; the map shows {name}', note_empty: 'No boundaries for this unit or below',
    chart_title: '{indicator} · {unit}', chart_empty: 'No values or targets for this indicator',
    chart_published: 'Published', chart_submitted: 'Submitted (unpublished)', chart_target: 'Target',
    reason_beyond_target: 'Beyond target: {value}, target {target} ({year})',
    reason_off_track: 'Recent trend misses the {year} target {target}',
    reason_missing: 'Value for {year} overdue',
    table_title: '{unit} · indicators {year}', children_none: 'No units below',
    value: 'Value', status: 'Status', warning: 'Warning', unknown_unit: 'Unknown unit {code}',
    loading: 'Loading…', error: 'Error',
    rollup: 'Roll-up of the units below ({year}): {value}', rollup_complete: 'complete', rollup_missing: 'incomplete, {n} missing: {names}',
    export_csv: 'Export CSV', export_gpkg: 'Export GeoPackage', downloaded: 'Downloaded {name}',
    plans: 'Plans', no_plans: 'No plans', plan_kind_master: 'Master plan', plan_kind_detailed: 'Detailed plan', plan_kind_special: 'Special plan',
    plan_draft: 'Draft', plan_submitted: 'Submitted', plan_approved: 'Approved', plan_superseded: 'Superseded',
    plan_line: '{kind} · {start}–{end} · version {version} · {n} target(s)',
  },
};

const LEVEL_COLOURS = { green: '#2e7d32', yellow: '#f9a825', red: '#c62828', none: '#9e9e9e' };
const RAMP = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c']; // sequential blues
const NO_DATA = '#cfd3d8';
const TOKEN_KEY = 'renxing.token';
const FIRST_YEAR = 2000;
const THIS_YEAR = new Date().getFullYear();
const EMPTY_FC = { type: 'FeatureCollection', features: [] };

const state = {
  lang: 'zh',
  unit: null, // unit JSON of the selection (with children and ancestors)
  ind: null, // selected indicator code
  year: THIS_YEAR - 1,
  mode: 'warning', // map colouring: 'warning' | 'value'
  token: sessionStorage.getItem(TOKEN_KEY),
  user: null, // {name, role, unit} when logged in
  catalogue: [],
  rows: [], // indicator rows of the table
  series: null,
  mapFc: EMPTY_FC, // what the map draws
  listFc: EMPTY_FC, // what the list under the map shows (children, even without geometry)
};
const seqs = { unit: 0, table: 0, map: 0, chart: 0, warnings: 0, rollup: 0, plans: 0 }; // drop stale responses
let started = false;
let map;
let mapReady;

// ---------- small helpers ----------

const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  const s = I18N[state.lang][key] ?? I18N.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}

function fill(target, attrs, kids) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) target.addEventListener(k.slice(2), v);
    else target.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) target.append(c instanceof Node ? c : String(c));
  return target;
}
const el = (tag, attrs = {}, ...kids) => fill(document.createElement(tag), attrs, kids);
const svg = (tag, attrs = {}, ...kids) => fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, kids);

const locale = () => (state.lang === 'zh' ? 'zh-CN' : 'en');
function fmt(v, opts = { maximumFractionDigits: 2 }) {
  return v == null || !Number.isFinite(Number(v)) ? '—' : new Intl.NumberFormat(locale(), opts).format(v);
}
const fmtShort = (v) => fmt(v, { notation: 'compact', maximumFractionDigits: 1 });

// Units of measure as the catalogue writes them, in Chinese or typeset for English.
const UNIT_ZH = {
  '10^4 persons': '万人', '10^4 CNY': '万元', '10^4 mu': '万亩', '10^8 m3': '亿立方米',
  km2: '平方千米', 'm2/person': '平方米/人', count: '个',
};
const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
function unitLabel(u) {
  if (!u) return '';
  if (state.lang === 'zh' && UNIT_ZH[u]) return UNIT_ZH[u];
  return u.replace(/\^(\d+)/g, (_, d) => [...d].map((c) => SUPERSCRIPT[c]).join('')).replace(/m([23])(?!\d)/g, (_, d) => (d === '2' ? 'm²' : 'm³'));
}

// Unit after a value ("5 个", "1,308.6 10⁴ persons"; a bare count in English).
const valueUnit = (u) => (!u || (u === 'count' && state.lang === 'en') ? '' : ` ${unitLabel(u)}`);

const indName = (ind) => (state.lang === 'zh' ? ind.name_zh : ind.name_en) || ind.code;
const indByCode = (code) => state.catalogue.find((i) => i.code === code);
const dot = (level, testid) => el('span', { class: `dot ${level}`, 'data-level': level, 'data-testid': testid, title: t(`level_${level}`) });

let statusTimer;
function showStatus(msg, isError = false) {
  const s = $('status');
  s.textContent = msg;
  s.classList.toggle('error', isError);
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { s.textContent = ''; }, 8000);
}

function warningText(w) {
  const vars = { value: fmt(w.value), target: fmt(w.target), year: w.year };
  return I18N.zh[`reason_${w.reason}`] ? t(`reason_${w.reason}`, vars) : w.message;
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.field = body?.field;
  }
}
const errText = (e) => (e.field ? `${e.message} (${e.field})` : e.message);

let busy = 0;
function setBusy(d) {
  busy += d;
  document.body.dataset.busy = String(busy);
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  setBusy(+1);
  try {
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 200) }; }
    }
    if (!res.ok) {
      if (res.status === 401 && headers.Authorization && path !== '/api/login') sessionExpired();
      throw new ApiError(res.status, data);
    }
    return data;
  } finally {
    setBusy(-1);
  }
}

const unitCache = new Map(); // code -> Promise<unit JSON>
function getUnit(code) {
  if (!unitCache.has(code)) {
    const p = api(`/api/units/${encodeURIComponent(code)}`);
    p.catch(() => unitCache.delete(code));
    unitCache.set(code, p);
  }
  return unitCache.get(code);
}

// ---------- session ----------

function forgetSession() {
  state.token = null;
  state.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

function sessionExpired() {
  if (!state.token) return;
  forgetSession();
  renderSession();
  showStatus(t('session_expired'), true);
  if (started) setTimeout(() => refreshData(), 0);
}

async function restoreSession() {
  if (!state.token) return;
  try {
    const me = await api('/api/me');
    if (me && !me.public) state.user = { name: me.name, role: me.role, unit: me.unit };
    else forgetSession();
  } catch {
    forgetSession();
  }
}

const within = (u, top) => u.code === top || (u.ancestors || []).some((a) => a.code === top);
const canSubmit = (u) => !!(state.user && u && ['editor', 'admin'].includes(state.user.role) && within(u, state.user.unit));
const canApprove = (u) => !!(state.user && u && ['reviewer', 'admin'].includes(state.user.role)
  && u.code !== state.user.unit && within(u, state.user.unit));

async function renderSession() {
  const user = state.user;
  $('login-form').hidden = !!user;
  $('session').hidden = !user;
  $('view-badge').textContent = t(user ? 'internal_view' : 'public_view');
  $('view-badge').classList.toggle('internal', !!user);
  if (!user) return;
  const text = (unitName) => t('logged_in_as', { name: user.name, role: t(`role_${user.role}`), unit: unitName });
  $('session-text').textContent = text(user.unit);
  try {
    const u = await getUnit(user.unit);
    if (state.user === user) $('session-text').textContent = text(`${u.name} ${u.code}`);
  } catch { /* keep the code */ }
}

async function login(ev) {
  ev.preventDefault();
  const err = $('login-error');
  err.textContent = '';
  try {
    const res = await api('/api/login', { method: 'POST', body: { name: $('login-name').value.trim(), password: $('login-password').value } });
    state.token = res.token;
    state.user = { name: res.name, role: res.role, unit: res.unit };
    sessionStorage.setItem(TOKEN_KEY, res.token);
    $('login-password').value = '';
    setMsg('');
    renderSession();
    await refreshData();
  } catch (e) {
    err.textContent = e.status === 401 ? t('login_failed') : e.status === 429 ? t('login_rate_limited') : errText(e);
  }
}

async function logout() {
  // Tell the server when it supports it; the client forgets the token either way.
  if (state.token) api('/api/logout', { method: 'POST' }).catch(() => {});
  forgetSession();
  setMsg('');
  renderSession();
  await refreshData();
}

// ---------- URL hash: #unit=CODE&ind=CODE&year=Y&lang=zh[&mode=value] ----------

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const year = parseInt(p.get('year'), 10);
  return { unit: p.get('unit'), ind: p.get('ind'), year: Number.isFinite(year) ? year : null, lang: p.get('lang'), mode: p.get('mode') };
}

function writeHash(push = false) {
  if (!state.unit) return;
  const p = new URLSearchParams({ unit: state.unit.code, ind: state.ind || '', year: String(state.year), lang: state.lang });
  if (state.mode === 'value') p.set('mode', 'value');
  const h = `#${p}`;
  if (h !== location.hash) history[push ? 'pushState' : 'replaceState'](null, '', h);
  appliedHash = h;
}

// Back/forward and edited URLs: apply the hash (popstate and hashchange may both fire).
let appliedHash = '';
async function onHashChange() {
  if (location.hash === appliedHash) return;
  appliedHash = location.hash;
  const h = readHash();
  if (h.lang && h.lang !== state.lang) setLang(h.lang === 'en' ? 'en' : 'zh');
  if (h.year && h.year !== state.year) { state.year = h.year; renderYearSelect(); }
  if (h.ind && indByCode(h.ind)) state.ind = h.ind;
  state.mode = h.mode === 'value' ? 'value' : 'warning';
  renderIndicatorSelect();
  renderModeButtons();
  if (h.unit && h.unit !== state.unit?.code) await selectUnit(h.unit);
  else await refreshData();
}

// ---------- language ----------

function setLang(lang, rerender = true) {
  state.lang = lang;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
  const sw = $('lang-switch');
  sw.textContent = lang === 'zh' ? 'English' : '中文';
  sw.dataset.lang = lang;
  if (!rerender) return;
  setMsg('');
  renderSession();
  renderIndicatorSelect();
  renderCrumbs();
  renderTable();
  renderMapStyle();
  renderChart();
  renderRollup();
  renderWarnings();
  renderPlans();
  writeHash();
}

// ---------- unit tree ----------

const treeNodes = new Map(); // code -> <li>
const treeLoads = new Map(); // code -> Promise of the children being rendered

function treeItem(u) {
  const leaf = u.level === 'township';
  const twisty = el('button', { type: 'button', class: 'twisty', tabindex: '-1', 'aria-hidden': 'true', onclick: (e) => { e.stopPropagation(); toggleNode(u.code); } }, leaf ? '' : '▸');
  const label = el('button', { type: 'button', class: 'label', title: `${u.code} · ${t(`level_${u.level}`)}`, 'data-testid': `unit-${u.code}`, onclick: () => selectUnit(u.code, true) }, u.name);
  const li = el('li', { role: 'treeitem', 'aria-expanded': leaf ? null : 'false', 'data-code': u.code, 'data-level': u.level, class: leaf ? 'leaf' : null },
    el('div', { class: 'node' }, twisty, label), el('ul', { role: 'group', hidden: true }));
  treeNodes.set(u.code, li);
  return li;
}

async function expandNode(code, open) {
  const li = treeNodes.get(code);
  if (!li || li.classList.contains('leaf')) return;
  const ul = li.querySelector(':scope > ul');
  if (open && !treeLoads.has(code)) {
    const load = getUnit(code).then((u) => {
      ul.replaceChildren(...u.children.map(treeItem));
      if (!u.children.length) ul.append(el('li', { class: 'empty', 'data-i18n': 'children_none' }, t('children_none')));
    });
    load.catch((e) => { treeLoads.delete(code); showStatus(errText(e), true); });
    treeLoads.set(code, load);
  }
  if (open) await treeLoads.get(code).catch(() => {});
  ul.hidden = !open;
  li.setAttribute('aria-expanded', String(open));
  li.querySelector(':scope > .node > .twisty').textContent = open ? '▾' : '▸';
}

const toggleNode = (code) => expandNode(code, treeNodes.get(code)?.getAttribute('aria-expanded') !== 'true');

async function revealInTree(u) {
  for (const a of u.ancestors || []) if (treeNodes.has(a.code)) await expandNode(a.code, true);
  if (state.unit !== u) return;
  expandNode(u.code, true); // its children are what the map shows
  for (const li of document.querySelectorAll('#unit-tree li.selected')) { li.classList.remove('selected'); li.removeAttribute('aria-selected'); }
  const li = treeNodes.get(u.code);
  if (li) {
    li.classList.add('selected');
    li.setAttribute('aria-selected', 'true');
    li.querySelector(':scope > .node').scrollIntoView({ block: 'nearest' });
  }
}

// ---------- selection ----------

async function selectUnit(code, push = false) {
  const seq = ++seqs.unit;
  let u;
  try {
    u = await getUnit(code);
  } catch (e) {
    showStatus(`${t('unknown_unit', { code })}: ${errText(e)}`, true);
    return;
  }
  if (seq !== seqs.unit) return;
  state.unit = u;
  setMsg('');
  writeHash(push);
  renderCrumbs();
  revealInTree(u);
  await refreshData({ fit: true });
}

function selectIndicator(code) {
  if (!code || code === state.ind) return;
  state.ind = code;
  writeHash();
  renderIndicatorSelect();
  for (const tr of document.querySelectorAll('#table-body tr')) tr.classList.toggle('selected', tr.dataset.code === code);
  loadMap(false);
  loadChart();
  loadRollup();
}

function setYear(y) {
  state.year = y;
  setMsg('');
  writeHash();
  renderYearSelect();
  Promise.all([loadTable(), loadMap(false), loadWarnings(), loadRollup()]);
  renderChart();
}

async function refreshData({ fit = false } = {}) {
  if (!state.unit) return;
  await Promise.all([loadTable(), loadMap(fit), loadChart(), loadWarnings(), loadRollup(), loadPlans()]);
}

function renderCrumbs() {
  const nav = $('crumbs');
  nav.replaceChildren();
  const u = state.unit;
  if (!u) return;
  for (const a of u.ancestors || []) {
    nav.append(el('button', { type: 'button', class: 'crumb', onclick: () => selectUnit(a.code, true) }, a.name), el('span', { class: 'sep' }, '›'));
  }
  nav.append(el('strong', { 'data-testid': 'current-unit' }, u.name), el('span', { class: 'muted' }, ` ${u.code} · ${t(`level_${u.level}`)}`));
}

function renderIndicatorSelect() {
  const sel = $('indicator-select');
  sel.replaceChildren(...state.catalogue.map((i) => el('option', { value: i.code }, indName(i))));
  if (state.ind) sel.value = state.ind;
}

function renderYearSelect() {
  const sel = $('year-select');
  const years = [];
  for (let y = Math.max(THIS_YEAR, state.year); y >= Math.min(FIRST_YEAR, state.year); y--) years.push(y);
  sel.replaceChildren(...years.map((y) => el('option', { value: String(y) }, String(y))));
  sel.value = String(state.year);
}

function renderModeButtons() {
  $('mode-warning').classList.toggle('on', state.mode === 'warning');
  $('mode-value').classList.toggle('on', state.mode === 'value');
  $('mode-warning').setAttribute('aria-pressed', String(state.mode === 'warning'));
  $('mode-value').setAttribute('aria-pressed', String(state.mode === 'value'));
}

// ---------- indicator table ----------

async function loadTable() {
  const seq = ++seqs.table;
  const u = state.unit;
  let data;
  try {
    data = await api(`/api/units/${u.code}/indicators?year=${state.year}`);
  } catch (e) {
    if (seq === seqs.table) { state.rows = []; renderTable(); setMsg(errText(e), true); }
    return;
  }
  if (seq !== seqs.table) return;
  state.rows = data.indicators || [];
  if (!state.catalogue.length) { // no catalogue endpoint: take the indicators from the table
    state.catalogue = state.rows.map((r) => r.indicator);
    if (!state.ind && state.catalogue.length) { state.ind = state.catalogue[0].code; loadMap(false); loadChart(); }
    renderIndicatorSelect();
  }
  renderTable();
}

function setMsg(text, isError = false) {
  const m = $('table-msg');
  m.textContent = text;
  m.classList.toggle('error', isError);
}

function renderTable() {
  const u = state.unit;
  if (!u) return;
  const edit = canSubmit(u);
  const appr = canApprove(u);
  $('table-title').textContent = t('table_title', { unit: u.name, year: state.year });
  const cols = ['col_name', 'col_unit', 'col_kind', 'col_direction', 'col_value', 'col_target', 'col_status', 'col_warning', 'col_messages'];
  if (edit || appr) cols.push('col_edit');
  $('table-header').replaceChildren(...cols.map((c) => el('th', { class: ['col_value', 'col_target'].includes(c) ? 'num' : null }, t(c))));
  $('table-body').replaceChildren(...state.rows.map((r) => tableRow(r, edit, appr)));
  const btn = $('approve');
  btn.hidden = !appr;
  btn.textContent = t('approve_year', { year: state.year });
  btn.disabled = !state.rows.some((r) => r.status === 'submitted');
}

function tableRow(r, edit, appr) {
  const ind = r.indicator;
  const code = ind.code;
  const level = r.assessment?.level || 'none';
  const warns = r.assessment?.warnings || [];
  const tr = el('tr', { 'data-testid': `indicator-row-${code}`, 'data-code': code, 'data-level': level, class: code === state.ind ? 'selected' : null, onclick: () => selectIndicator(code) },
    el('td', { class: 'name', title: ind.source || '' }, indName(ind), el('div', { class: 'code' }, code)),
    el('td', { class: 'unit', title: ind.unit || '' }, unitLabel(ind.unit)),
    el('td', {}, el('span', { class: `kind ${ind.kind}` }, t(`kind_${ind.kind}`))),
    el('td', { class: 'dir' }, t(`dir_${ind.direction || 'none'}`)),
    el('td', { class: 'num', 'data-testid': `value-${code}` }, fmt(r.value)),
    el('td', { class: 'num', 'data-testid': `target-${code}` }, fmt(r.target)),
    el('td', { 'data-testid': `status-${code}`, 'data-status': r.status || 'none' }, r.status ? el('span', { class: `badge ${r.status}` }, t(`status_${r.status}`)) : '—'),
    el('td', { class: 'c' }, dot(level, `warning-dot-${code}`)),
    el('td', { class: 'msgs', 'data-testid': `messages-${code}` }, warns.map((w) => el('div', { class: `wmsg ${w.level}`, title: w.message || '' }, warningText(w)))));
  if (edit || appr) tr.append(el('td', { class: 'edit' }, editCell(r, edit, appr)));
  return tr;
}

function editCell(r, edit, appr) {
  const code = r.indicator.code;
  const err = el('div', { class: 'error', 'data-testid': `error-${code}`, role: 'alert' });
  const box = el('div', { class: 'edit-box' });
  if (edit) {
    const input = el('input', { type: 'number', step: 'any', inputmode: 'decimal', 'data-testid': `value-input-${code}`, placeholder: r.value == null ? '' : String(r.value), 'aria-label': `${indName(r.indicator)} ${state.year}` });
    box.append(el('form', { class: 'edit-form', onsubmit: (e) => { e.preventDefault(); submitValue(code, input, err); } },
      input, el('button', { type: 'submit', 'data-testid': `submit-${code}` }, t('submit'))));
  }
  if (appr && r.status === 'submitted') {
    box.append(el('button', { type: 'button', class: 'secondary', 'data-testid': `approve-${code}`, onclick: () => approve(code, err) }, t('approve_one')));
  }
  return [box, err];
}

async function submitValue(code, input, errEl) {
  errEl.textContent = '';
  const raw = input.value.trim();
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) { errEl.textContent = t('err_number'); return; }
  try {
    const res = await api(`/api/units/${state.unit.code}/observations`, { method: 'PUT', body: { observations: [{ indicator: code, year: state.year, value }] } });
    setMsg(t('accepted', { n: res?.accepted ?? 1 }));
    await refreshData();
  } catch (e) {
    errEl.textContent = errText(e);
  }
}

async function approve(indicator, errEl) {
  const body = { year: state.year };
  if (indicator) body.indicator = indicator;
  try {
    const res = await api(`/api/units/${state.unit.code}/approve`, { method: 'POST', body });
    setMsg(t('approved', { n: res?.approved ?? 0 }));
    await refreshData();
  } catch (e) {
    if (errEl) errEl.textContent = errText(e);
    else setMsg(errText(e), true);
  }
}

// Downloads an export with the caller's token (a plain link could not send it).
async function download(path, fallbackName) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  setBusy(+1);
  try {
    const res = await fetch(path, { headers });
    if (!res.ok) {
      let body = null;
      try { body = await res.json(); } catch { /* not JSON */ }
      throw new ApiError(res.status, body);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || fallbackName;
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setMsg(t('downloaded', { name }));
  } catch (e) {
    setMsg(errText(e), true);
  } finally {
    setBusy(-1);
  }
}

// ---------- map ----------

function initMap() {
  try {
    createMap();
  } catch (e) {
    map = null;
    mapReady = Promise.resolve();
    $('map').textContent = `${t('error')}: ${e.message}`;
  }
}

function createMap() {
  map = new maplibregl.Map({
    container: 'map',
    // No tiles and no glyphs: a background and one GeoJSON source; names go in an HTML tooltip.
    style: {
      version: 8,
      sources: { units: { type: 'geojson', data: EMPTY_FC } },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } },
        { id: 'unit-fill', type: 'fill', source: 'units', paint: {
          'fill-color': ['get', '_fill'],
          'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.95, 0.78],
        } },
        { id: 'unit-line', type: 'line', source: 'units', paint: { 'line-color': '#ffffff', 'line-width': 1.2 } },
        { id: 'unit-focus', type: 'line', source: 'units', filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#0d2a4a', 'line-width': 3 } },
      ],
    },
    center: [113.6, 33.9],
    zoom: 5.5,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    // keeps the canvas readable after drawing (screenshots, pixel checks in tests)
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.renxingMap = map;
  mapReady = new Promise((resolve) => map.once('load', resolve));

  const tip = $('map-tooltip');
  let hovered = null;
  const setHover = (id) => {
    if (hovered != null) map.setFeatureState({ source: 'units', id: hovered }, { hover: false });
    hovered = id;
    if (id != null) map.setFeatureState({ source: 'units', id }, { hover: true });
  };
  map.on('mousemove', 'unit-fill', (e) => {
    const f = e.features[0];
    if (!f) return;
    setHover(f.id);
    map.getCanvas().style.cursor = 'pointer';
    tip.replaceChildren(...tooltipContent(f.properties));
    tip.hidden = false;
    const { width } = map.getContainer().getBoundingClientRect();
    tip.style.left = `${Math.min(e.point.x + 14, width - 230)}px`;
    tip.style.top = `${e.point.y + 14}px`;
  });
  map.on('mouseleave', 'unit-fill', () => {
    setHover(null);
    map.getCanvas().style.cursor = '';
    tip.hidden = true;
  });
  map.on('click', 'unit-fill', (e) => {
    const code = e.features[0]?.properties.code;
    if (code && code !== state.unit?.code) selectUnit(String(code), true);
  });
}

function tooltipContent(p) {
  const ind = indByCode(state.ind);
  const value = p.value == null || p.value === 'null' ? null : Number(p.value);
  return [
    el('strong', {}, p.name),
    el('span', { class: 'muted' }, ` ${p.code} · ${t(`level_${p.level}`)}`),
    el('div', {}, `${ind ? indName(ind) : state.ind} (${state.year}): `, el('b', {}, fmt(value)), valueUnit(ind?.unit)),
    p.status && p.status !== 'null' ? el('div', {}, `${t('status')}: ${t(`status_${p.status}`)}`) : null,
    el('div', {}, dot(p._level || 'none'), ` ${t(`level_${p._level || 'none'}`)}`),
  ];
}

async function loadMap(fit) {
  const seq = ++seqs.map;
  const u = state.unit;
  const mapEl = $('map');
  mapEl.dataset.state = 'loading';
  const q = `?indicator=${encodeURIComponent(state.ind || '')}&year=${state.year}`;
  let listFc;
  let mapFc;
  let note = '';
  try {
    listFc = await api(`/api/units/${u.code}/map${q}`);
    mapFc = listFc;
    // Townships carry no boundaries: show the parent's children with this unit outlined.
    if (!hasGeometry(listFc) && u.parent) {
      const [parent, parentFc] = await Promise.all([getUnit(u.parent), api(`/api/units/${u.parent}/map${q}`)]);
      if (hasGeometry(parentFc)) { mapFc = parentFc; note = t('note_parent', { name: parent.name }); }
    }
    if (!hasGeometry(mapFc)) note = t('note_empty');
  } catch (e) {
    if (seq === seqs.map) { showStatus(errText(e), true); mapEl.dataset.state = 'error'; }
    return;
  }
  if (seq !== seqs.map) return;
  state.listFc = listFc;
  state.mapFc = mapFc;
  $('map-note').textContent = note;
  $('map-note').hidden = !note;
  await mapReady;
  if (seq !== seqs.map) return;
  renderMapStyle();
  const ready = () => {
    if (seq !== seqs.map) return;
    mapEl.dataset.unit = u.code;
    mapEl.dataset.indicator = state.ind || '';
    mapEl.dataset.year = String(state.year);
    mapEl.dataset.state = 'ready';
  };
  if (!map) { ready(); return; }
  if (fit) fitTo(mapFc);
  map.once('idle', ready);
}

const hasGeometry = (fc) => (fc?.features || []).some((f) => f.geometry);

// Colours for a feature collection under the current mode; returns {colour(props), legend entries}.
function classify(fc) {
  const feats = fc?.features || [];
  if (state.mode === 'warning') {
    const counts = { green: 0, yellow: 0, red: 0, none: 0 };
    for (const f of feats) counts[f.properties.warning || 'none'] = (counts[f.properties.warning || 'none'] || 0) + 1;
    return {
      colour: (p) => LEVEL_COLOURS[p.warning] || LEVEL_COLOURS.none,
      legend: ['red', 'yellow', 'green', 'none'].map((l) => ({ level: l, colour: LEVEL_COLOURS[l], label: `${t(`level_${l}`)} (${counts[l]})` })),
      title: t('legend_warning'),
    };
  }
  // value mode: quantile classes over the distinct values
  const values = [...new Set(feats.map((f) => f.properties.value).filter((v) => v != null && Number.isFinite(Number(v))).map(Number))].sort((a, b) => a - b);
  const n = Math.min(RAMP.length, values.length);
  const breaks = []; // upper bounds of classes 0..n-1
  for (let i = 1; i <= n; i++) breaks.push(values[Math.ceil((i * values.length) / n) - 1]);
  const ramp = n <= 1 ? [RAMP[RAMP.length - 1]] : RAMP.slice(RAMP.length - n); // darker end for few classes
  const classOf = (v) => breaks.findIndex((b) => v <= b);
  const ind = indByCode(state.ind);
  const legend = breaks.map((b, i) => ({
    level: `class-${i}`,
    colour: ramp[i],
    label: i === 0 ? `≤ ${fmtShort(b)}` : `${fmtShort(breaks[i - 1])} – ${fmtShort(b)}`,
  }));
  legend.push({ level: 'no-data', colour: NO_DATA, label: t('no_data') });
  return {
    colour: (p) => (p.value == null || !Number.isFinite(Number(p.value)) ? NO_DATA : ramp[Math.max(0, classOf(Number(p.value)))]),
    legend,
    title: ind ? `${indName(ind)} (${unitLabel(ind.unit)}) · ${state.year}` : t('value'),
  };
}

// Prepares features for MapLibre: numeric ids (for hover state), colour and level as properties.
function styled(fc, colour) {
  return {
    type: 'FeatureCollection',
    features: (fc?.features || []).filter((f) => f.geometry).map((f) => ({
      type: 'Feature',
      id: Number(f.properties.code),
      geometry: f.geometry,
      properties: { ...f.properties, _fill: colour(f.properties), _level: f.properties.warning || 'none' },
    })),
  };
}

function renderMapStyle() {
  if (!state.unit) return;
  const cls = classify(state.mapFc);
  const data = styled(state.mapFc, cls.colour);
  window.renxingFeatures = data.features.map((f) => ({ code: f.properties.code, level: f.properties._level, value: f.properties.value, fill: f.properties._fill }));
  if (map?.getSource('units')) {
    map.getSource('units').setData(data);
    map.setFilter('unit-focus', ['==', ['get', 'code'], state.mapFc === state.listFc ? '' : state.unit.code]);
  }
  renderLegend(cls);
  renderFeatureList();
}

function renderLegend(cls) {
  $('legend').replaceChildren(
    el('div', { class: 'legend-title' }, cls.title),
    el('ul', {}, cls.legend.map((e) => el('li', { 'data-level': e.level }, el('span', { class: 'swatch', style: `background:${e.colour}` }), e.label))));
}

// Chips under the map: every child unit (also those without boundary) with its colour and value.
function renderFeatureList() {
  const cls = classify(state.listFc);
  const ind = indByCode(state.ind);
  $('map-features').replaceChildren(...(state.listFc.features || []).map((f) => {
    const p = f.properties;
    const level = p.warning || 'none';
    return el('li', {
      'data-testid': `feature-${p.code}`, 'data-code': p.code, 'data-level': level, 'data-value': p.value ?? '',
      'data-fill': cls.colour(p), class: p.code === state.unit.code ? 'current' : null,
      title: `${p.code}${f.geometry ? '' : ` · ${t('no_boundary')}`}`,
      onclick: () => { if (p.code !== state.unit.code) selectUnit(p.code, true); },
    }, el('span', { class: 'swatch', style: `background:${cls.colour(p)}` }), p.name, ' ',
    el('span', { class: 'muted' }, fmt(p.value), p.value != null ? valueUnit(ind?.unit) : ''));
  }));
}

function fitTo(fc) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      x0 = Math.min(x0, c[0]); y0 = Math.min(y0, c[1]); x1 = Math.max(x1, c[0]); y1 = Math.max(y1, c[1]);
    } else c.forEach(walk);
  };
  for (const f of fc.features || []) {
    if (!f.geometry) continue;
    if (f.geometry.type === 'GeometryCollection') f.geometry.geometries.forEach((g) => walk(g.coordinates));
    else walk(f.geometry.coordinates);
  }
  map.resize(); // the list under the map may have changed the container's height
  if (x0 <= x1) map.fitBounds([[x0, y0], [x1, y1]], { padding: 28, animate: false, maxZoom: 12 });
}

// ---------- time-series chart (SVG) ----------

async function loadChart() {
  const seq = ++seqs.chart;
  const u = state.unit;
  if (!state.ind) return;
  try {
    const data = await api(`/api/units/${u.code}/series?indicator=${encodeURIComponent(state.ind)}`);
    if (seq !== seqs.chart) return;
    state.series = { ...data, unit: u }; // the unit object, not the code the API echoes
  } catch (e) {
    if (seq !== seqs.chart) return;
    state.series = { unit: u, indicator: state.ind, observations: [], targets: [], error: errText(e) };
  }
  renderChart();
}

function niceTicks(lo, hi, count = 5) {
  if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo: start, hi: end, ticks };
}

function renderChart() {
  const box = $('chart');
  const s = state.series;
  const ind = indByCode(state.ind);
  if (!s || !state.unit) { box.replaceChildren(); return; }
  $('chart-title').textContent = t('chart_title', { indicator: ind ? indName(ind) : s.indicator, unit: s.unit.name });
  const obs = [...(s.observations || [])].sort((a, b) => a.year - b.year);
  const tgs = [...(s.targets || [])].sort((a, b) => a.year - b.year);
  box.dataset.indicator = s.indicator;
  box.dataset.unit = s.unit.code;
  box.dataset.points = String(obs.length);
  if (!obs.length && !tgs.length) {
    box.replaceChildren(el('p', { class: 'empty' }, s.error || t('chart_empty')));
    return;
  }
  const W = 440; const H = 230;
  const m = { l: 52, r: 14, t: 18, b: 26 };
  const years = [...obs, ...tgs].map((d) => d.year);
  let y0 = Math.min(...years); let y1 = Math.max(...years);
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const vals = [...obs, ...tgs].map((d) => d.value);
  let vmin = Math.min(...vals);
  const vmax = Math.max(...vals);
  if (vmin > 0 && (vmin <= vmax * 0.6 || vmin === vmax)) vmin = 0; // start at zero unless that flattens the curve
  const yt = niceTicks(vmin, vmax);
  const X = (yr) => m.l + ((yr - y0) / (y1 - y0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((v - yt.lo) / (yt.hi - yt.lo)) * (H - m.t - m.b);
  const span = y1 - y0;
  const xstep = [1, 2, 5, 10, 20].find((st) => span / st <= 8) || 50;

  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': $('chart-title').textContent, class: 'chart-svg' });
  for (const v of yt.ticks) {
    g.append(svg('line', { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v), class: 'grid' }),
      svg('text', { x: m.l - 6, y: Y(v) + 4, class: 'tick', 'text-anchor': 'end' }, fmtShort(v)));
  }
  g.append(svg('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }),
    svg('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }));
  for (let yr = Math.ceil(y0 / xstep) * xstep; yr <= y1; yr += xstep) {
    g.append(svg('line', { x1: X(yr), x2: X(yr), y1: H - m.b, y2: H - m.b + 4, class: 'axis' }),
      svg('text', { x: X(yr), y: H - m.b + 16, class: 'tick', 'text-anchor': 'middle' }, String(yr)));
  }
  if (ind?.unit) g.append(svg('text', { x: 4, y: 10, class: 'tick' }, unitLabel(ind.unit)));
  if (state.year >= y0 && state.year <= y1) {
    g.append(svg('line', { x1: X(state.year), x2: X(state.year), y1: m.t, y2: H - m.b, class: 'year-mark' }));
  }
  const path = (pts) => pts.map((d, i) => `${i ? 'L' : 'M'}${X(d.year).toFixed(1)},${Y(d.value).toFixed(1)}`).join('');
  if (tgs.length > 1) g.append(svg('path', { d: path(tgs), class: 'target-line' }));
  for (const d of tgs) {
    const x = X(d.year); const y = Y(d.value);
    g.append(svg('path', { d: `M${x},${y - 6}L${x + 6},${y}L${x},${y + 6}L${x - 6},${y}Z`, class: 'target', 'data-year': d.year },
      svg('title', {}, `${t('chart_target')} ${d.year}: ${fmt(d.value)}${d.basis ? ` — ${d.basis}` : ''}`)));
  }
  if (obs.length > 1) g.append(svg('path', { d: path(obs), class: 'obs-line' }));
  for (const d of obs) {
    g.append(svg('circle', { cx: X(d.year), cy: Y(d.value), r: 3.8, class: `obs ${d.status}`, 'data-year': d.year, 'data-status': d.status, 'data-value': d.value },
      svg('title', {}, `${d.year}: ${fmt(d.value)} (${t(`status_${d.status}`)})${d.source ? ` — ${d.source}` : ''}`)));
  }
  const key = el('div', { class: 'chart-key' },
    el('span', {}, el('i', { class: 'k-pub' }), t('chart_published')),
    el('span', {}, el('i', { class: 'k-sub' }), t('chart_submitted')),
    el('span', {}, el('i', { class: 'k-tgt' }), t('chart_target')));
  box.replaceChildren(g, key);
}

// Roll-up of the selected indicator over the children (GET /api/units/{code}/rollup).
let rollupData = null;
async function loadRollup() {
  const seq = ++seqs.rollup;
  const u = state.unit;
  rollupData = null;
  if (u.children?.length && state.ind) {
    try {
      const r = await api(`/api/units/${u.code}/rollup?indicator=${encodeURIComponent(state.ind)}&year=${state.year}`);
      if (seq !== seqs.rollup) return;
      rollupData = { ...r.rollup, year: r.year ?? state.year, unit: u };
    } catch {
      if (seq !== seqs.rollup) return; // no roll-up: the line stays hidden
    }
  }
  renderRollup();
}

function renderRollup() {
  const p = $('rollup');
  const r = rollupData;
  p.hidden = !r || r.unit !== state.unit || r.value == null;
  if (p.hidden) return;
  const ind = indByCode(state.ind);
  const names = (r.missing || []).map((c) => state.unit.children.find((k) => k.code === c)?.name || c);
  const shown = names.slice(0, 5).join('、') + (names.length > 5 ? ' …' : '');
  p.dataset.complete = String(!!r.complete);
  p.replaceChildren(
    t('rollup', { year: r.year, value: `${fmt(r.value)}${valueUnit(ind?.unit)}` }), ' · ',
    el('span', { class: r.complete ? 'ok' : 'warn' }, r.complete ? t('rollup_complete') : t('rollup_missing', { n: names.length, names: shown })));
}

// ---------- warnings panel ----------

let warningList = [];
async function loadWarnings() {
  const seq = ++seqs.warnings;
  try {
    const data = await api(`/api/warnings?under=${state.unit.code}&year=${state.year}`);
    if (seq !== seqs.warnings) return;
    warningList = data.warnings || [];
  } catch (e) {
    if (seq !== seqs.warnings) return;
    warningList = [];
    showStatus(errText(e), true);
  }
  renderWarnings();
}

function renderWarnings() {
  const order = { red: 0, yellow: 1, green: 2 };
  const list = [...warningList].sort((a, b) => (order[a.warning.level] ?? 3) - (order[b.warning.level] ?? 3) || a.unit.localeCompare(b.unit));
  $('warning-count').textContent = list.length ? `(${list.length})` : '';
  $('warnings').replaceChildren(...(list.length ? list.map((w) => {
    const ind = indByCode(w.indicator);
    return el('li', {
      'data-testid': `warning-${w.unit}-${w.indicator}`, 'data-level': w.warning.level, title: w.warning.message || '',
      tabindex: '0',
      onclick: () => { state.ind = w.indicator; renderIndicatorSelect(); selectUnit(w.unit, true); },
      onkeydown: (e) => { if (e.key === 'Enter') e.currentTarget.click(); },
    }, dot(w.warning.level), el('div', {}, el('strong', {}, w.name), ' · ', ind ? indName(ind) : w.indicator,
      el('div', { class: 'muted' }, warningText(w.warning))));
  }) : [el('li', { class: 'empty' }, t('no_warnings'))]));
}

// ---------- plans panel ----------

let planList = [];
async function loadPlans() {
  const seq = ++seqs.plans;
  try {
    const data = await api(`/api/units/${state.unit.code}/plans`);
    if (seq !== seqs.plans) return;
    planList = data.plans || [];
  } catch (e) {
    if (seq !== seqs.plans) return;
    planList = [];
    showStatus(errText(e), true);
  }
  renderPlans();
}

function renderPlans() {
  $('plan-count').textContent = planList.length ? `(${planList.length})` : '';
  $('plans').replaceChildren(...(planList.length ? planList.map((p) => el('li', {
    'data-testid': `plan-${p.id}`, 'data-status': p.status, title: p.comment || '',
  }, el('span', { class: `plan-status ${p.status}` }, t(`plan_${p.status}`)),
  el('div', {}, el('strong', {}, p.name),
    el('div', { class: 'muted' }, t('plan_line', {
      kind: t(`plan_kind_${p.kind}`), start: p.period_start, end: p.period_end, version: p.version, n: p.targets.length,
    }))))) : [el('li', { class: 'empty' }, t('no_plans'))]));
}

// ---------- start ----------

async function main() {
  const h = readHash();
  state.lang = h.lang === 'en' ? 'en' : 'zh';
  if (h.year) state.year = h.year;
  state.mode = h.mode === 'value' ? 'value' : 'warning';
  setLang(state.lang, false);
  renderYearSelect();
  renderModeButtons();
  initMap();

  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('lang-switch').addEventListener('click', () => setLang(state.lang === 'zh' ? 'en' : 'zh'));
  $('year-select').addEventListener('change', (e) => setYear(Number(e.target.value)));
  $('indicator-select').addEventListener('change', (e) => selectIndicator(e.target.value));
  $('approve').addEventListener('click', () => approve(null, null));
  $('export-csv').addEventListener('click', () => download(`/api/units/${state.unit.code}/export.csv?year=${state.year}`, `${state.unit.code}-${state.year}.csv`));
  $('export-gpkg').addEventListener('click', () => download(`/api/units/${state.unit.code}/export.gpkg?year=${state.year}`, `${state.unit.code}-${state.year}.gpkg`));
  for (const mode of ['warning', 'value']) {
    $(`mode-${mode}`).addEventListener('click', () => { state.mode = mode; renderModeButtons(); renderMapStyle(); writeHash(); });
  }

  await restoreSession();
  renderSession();
  let root;
  try {
    const [cat, r] = await Promise.all([api('/api/catalogue').catch(() => ({ indicators: [] })), api('/api/root')]);
    state.catalogue = cat.indicators || [];
    root = r;
  } catch (e) {
    showStatus(`${t('error')}: ${errText(e)}`, true);
    return;
  }
  state.ind = h.ind && (indByCode(h.ind) || !state.catalogue.length) ? h.ind : state.catalogue[0]?.code || null;
  renderIndicatorSelect();
  unitCache.set(root.code, Promise.resolve(root));
  $('unit-tree').replaceChildren(treeItem(root));
  expandNode(root.code, true);
  await selectUnit(h.unit || root.code);
  started = true;
  window.addEventListener('popstate', onHashChange);
  window.addEventListener('hashchange', onHashChange);
  document.body.dataset.ready = 'true';
}

main();
