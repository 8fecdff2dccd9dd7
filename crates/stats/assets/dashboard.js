/* TTX turnover dashboard: reads /v1/stats/* and draws it with the vendored ECharts.
 *
 * Every chart container carries data-chart="<name>"; once drawn with at least one data point it
 * gets data-drawn="true" and data-points="<n>". document.body.dataset.ready becomes "true" when
 * every chart has finished loading (drawn, empty or failed). Failed calls show the problem's
 * title and detail in the page. */
(function () {
  'use strict';

  var FEN_PER = { wan: 1e6, yi: 1e10 };
  var UNIT_ZH = { wan: '万元', yi: '亿元' };
  var CHARTS = ['trend', 'kind', 'field', 'provinces', 'flows'];
  var TOKEN_KEY = 'ttx.dashboard.token';
  var PALETTE = ['#1d4e89', '#e08e0b', '#3a87c8', '#2e9d6f', '#8e6cc0', '#c0504d', '#5fb3c9',
    '#a0794b', '#7f8c9a', '#d4a017', '#4f6d7a'];
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

  var state = {
    generation: 0,
    charts: {},
    data: {},
    query: null,
    regions: {}
  };

  function $(id) { return document.getElementById(id); }
  function chartEl(name) { return document.querySelector('[data-chart="' + name + '"]'); }

  /* ---------- dates and periods (Beijing time) ---------- */

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function beijingNow() { return new Date(Date.now() + 8 * 3600 * 1000); }
  function lastDay(y, m) { return new Date(Date.UTC(y, m, 0)).getUTCDate(); }
  function ymd(y, m, d) { return y + '-' + pad(m) + '-' + pad(d); }
  function parseDate(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
    return m ? { y: +m[1], m: +m[2], d: +m[3] } : null;
  }

  function periodOf(f) {
    var y = +f.year;
    if (f.mode === 'year') return { from: ymd(y, 1, 1), to: ymd(y, 12, 31) };
    if (f.mode === 'quarter') {
      var q = +f.quarter;
      return { from: ymd(y, 3 * q - 2, 1), to: ymd(y, 3 * q, lastDay(y, 3 * q)) };
    }
    if (f.mode === 'month') {
      var mo = +f.month;
      return { from: ymd(y, mo, 1), to: ymd(y, mo, lastDay(y, mo)) };
    }
    return { from: f.from, to: f.to };
  }

  /** The filter mode that names exactly this period, if any. */
  function modeOf(from, to) {
    var a = parseDate(from), b = parseDate(to);
    if (!a || !b || a.y !== b.y || a.d !== 1 || b.d !== lastDay(b.y, b.m)) return null;
    if (a.m === 1 && b.m === 12) return { mode: 'year', year: a.y };
    if (a.m === b.m) return { mode: 'month', year: a.y, month: a.m };
    if (b.m - a.m === 2 && a.m % 3 === 1) return { mode: 'quarter', year: a.y, quarter: (a.m + 2) / 3 };
    return null;
  }

  function periodLabel(q) {
    var f = modeOf(q.from, q.to);
    if (f && f.mode === 'year') return f.year + '年';
    if (f && f.mode === 'quarter') return f.year + '年第' + '一二三四'.charAt(f.quarter - 1) + '季度';
    if (f && f.mode === 'month') return f.year + '年' + f.month + '月';
    var a = parseDate(q.from), b = parseDate(q.to);
    if (!a || !b) return q.from + ' 至 ' + q.to;
    return a.y + '年' + a.m + '月' + a.d + '日 至 ' + b.y + '年' + b.m + '月' + b.d + '日';
  }

  function intervalFor(q) {
    var a = parseDate(q.from), b = parseDate(q.to);
    if (!a || !b) return 'month';
    var months = (b.y * 12 + b.m) - (a.y * 12 + a.m) + 1;
    if (months <= 36) return 'month';
    if (months <= 96) return 'quarter';
    return 'year';
  }

  function pointLabel(p, interval) {
    var a = parseDate(p.period && p.period.from);
    if (!a) return '';
    if (interval === 'year') return a.y + '年';
    if (interval === 'quarter') return a.y + 'Q' + ((a.m + 2) / 3 | 0);
    return a.y + '-' + pad(a.m);
  }

  /* ---------- numbers ---------- */

  function unit() { return (state.query && state.query.unit) || 'wan'; }
  function inUnit(fen) {
    return fen === null || fen === undefined ? null : fen / FEN_PER[unit()];
  }
  function fmtAmount(fen) {
    var v = inUnit(fen);
    if (v === null) return '—';
    var digits = Math.abs(v) > 0 && Math.abs(v) < 0.01 ? 4 : 2;
    return v.toLocaleString('zh-CN', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function fmtCount(n) {
    return n === null || n === undefined ? '—' : Number(n).toLocaleString('zh-CN');
  }
  function fmtPct(x) {
    if (x === null || x === undefined) return '—';
    var v = x * 100;
    return (v > 0 ? '+' : '') + v.toFixed(1) + '%';
  }
  function pctClass(x) { return x > 0 ? 'up' : (x < 0 ? 'down' : ''); }
  function round(v, d) { var k = Math.pow(10, d); return Math.round(v * k) / k; }
  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  /* ---------- API ---------- */

  function ApiProblem(title, detail, status, code) {
    this.title = title; this.detail = detail; this.status = status; this.code = code;
  }

  function token() { return ($('f-token').value || '').trim(); }

  function api(path, params) {
    var qs = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined && params[k] !== '') qs.set(k, params[k]);
    });
    var url = path + (qs.toString() ? '?' + qs.toString() : '');
    var headers = { Accept: 'application/json' };
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    return fetch(url, { headers: headers, credentials: 'omit' }).then(function (r) {
      var type = r.headers.get('content-type') || '';
      if (r.ok && type.indexOf('json') >= 0) return r.json();
      if (type.indexOf('json') >= 0) {
        return r.json().then(function (p) {
          var detail = p.detail || '';
          if (Array.isArray(p.errors) && p.errors.length) {
            detail = (detail ? detail + '；' : '') + p.errors.map(function (e) {
              return (e.field ? e.field + '：' : '') + (e.message || e.code || '');
            }).join('；');
          }
          throw new ApiProblem(p.title || ('HTTP ' + r.status), detail, r.status, p.code);
        });
      }
      throw new ApiProblem('请求失败（HTTP ' + r.status + '）', url, r.status, null);
    }, function (e) {
      throw new ApiProblem('无法连接服务器', String((e && e.message) || e), 0, 'network');
    });
  }

  /* ---------- problems and notices in the page ---------- */

  function problemNode(p) {
    var div = document.createElement('div');
    div.className = 'problem';
    var strong = document.createElement('strong');
    strong.textContent = p.title || '请求失败';
    if (p.code) {
      var code = document.createElement('span');
      code.className = 'code';
      code.textContent = '(' + p.code + (p.status ? ', ' + p.status : '') + ')';
      strong.appendChild(code);
    }
    div.appendChild(strong);
    if (p.detail) {
      var d = document.createElement('div');
      d.textContent = p.detail;
      div.appendChild(d);
    }
    return div;
  }

  function asProblem(e) {
    if (e instanceof ApiProblem) return e;
    return new ApiProblem('页面处理数据时出错', String((e && e.message) || e), 0, null);
  }

  function showProblem(where, e) {
    var box = where ? document.querySelector('[data-problem-for="' + where + '"]') : $('alerts');
    box.appendChild(problemNode(asProblem(e)));
  }

  function showNotice(text) {
    var div = document.createElement('div');
    div.className = 'notice';
    div.textContent = text;
    $('alerts').appendChild(div);
  }

  /* ---------- charts ---------- */

  function chart(name) {
    if (!state.charts[name]) {
      state.charts[name] = echarts.init(chartEl(name), null, { renderer: 'canvas' });
    }
    return state.charts[name];
  }

  function clearChart(name) {
    var el = chartEl(name);
    el.dataset.drawn = 'false';
    el.dataset.points = '0';
    var empty = el.querySelector('.empty');
    if (empty) empty.remove();
    if (state.charts[name]) state.charts[name].clear();
  }

  function markEmpty(name, text) {
    var el = chartEl(name);
    var div = document.createElement('div');
    div.className = 'empty';
    div.textContent = text || '所选范围内暂无数据 · No data for this selection';
    el.appendChild(div);
  }

  /** Sets the option and resolves once ECharts reports the frame finished. */
  function draw(name, option, points) {
    var c = chart(name);
    return new Promise(function (resolve) {
      var done = false;
      function finish() {
        if (done) return;
        done = true;
        c.off('finished', finish);
        var el = chartEl(name);
        el.dataset.points = String(points);
        el.dataset.drawn = points > 0 ? 'true' : 'false';
        resolve();
      }
      c.on('finished', finish);
      c.setOption(option, true);
      setTimeout(finish, 5000);
    });
  }

  function baseOption() {
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT, color: '#1f2a37' },
      animationDuration: 500,
      tooltip: { confine: true, textStyle: { fontFamily: FONT } }
    };
  }

  function axisNum(v) { return Number(v).toLocaleString('zh-CN', { maximumFractionDigits: 2 }); }

  function tooltipRows(title, rows) {
    return '<div style="font-weight:600;margin-bottom:4px">' + esc(title) + '</div>' +
      rows.map(function (r) {
        return '<div style="display:flex;justify-content:space-between;gap:16px">' +
          '<span>' + esc(r[0]) + '</span><span style="font-weight:600">' + esc(r[1]) + '</span></div>';
      }).join('');
  }

  function renderTrend() {
    var d = state.data.trend;
    var interval = d.interval || 'month';
    var pts = d.points || [];
    var labels = pts.map(function (p) { return pointLabel(p, interval); });
    var amounts = pts.map(function (p) { return p.suppressed ? null : round(inUnit(p.contract_amount), 4); });
    var tech = pts.map(function (p) { return p.suppressed ? null : round(inUnit(p.technology_amount), 4); });
    var yoy = pts.map(function (p) {
      return p.yoy && p.yoy.contract_amount !== null && p.yoy.contract_amount !== undefined
        ? round(p.yoy.contract_amount * 100, 1) : null;
    });
    var n = pts.filter(function (p) { return !p.suppressed && p.count > 0; }).length;
    var u = UNIT_ZH[unit()];
    var opt = baseOption();
    opt.grid = { left: 70, right: 64, top: 44, bottom: pts.length > 24 ? 56 : 30 };
    opt.legend = { top: 4, data: ['合同成交额', '技术交易额', '成交额同比增长'] };
    opt.tooltip.trigger = 'axis';
    opt.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex, p = pts[i];
      if (p.suppressed) return tooltipRows(labels[i], [['数据', '不足3项，已隐去']]);
      return tooltipRows(labels[i], [
        ['合同数', fmtCount(p.count) + ' 项'],
        ['合同成交额', fmtAmount(p.contract_amount) + ' ' + u],
        ['技术交易额', fmtAmount(p.technology_amount) + ' ' + u],
        ['成交额同比', fmtPct(p.yoy && p.yoy.contract_amount)],
        ['上年同期成交额', p.previous ? fmtAmount(p.previous.contract_amount) + ' ' + u : '—']
      ]);
    };
    opt.xAxis = { type: 'category', data: labels, axisTick: { alignWithLabel: true },
      axisLabel: { hideOverlap: true } };
    opt.yAxis = [
      { type: 'value', name: u, axisLabel: { formatter: axisNum }, splitLine: { lineStyle: { color: '#e9edf2' } } },
      { type: 'value', name: '同比 %', alignTicks: true, axisLabel: { formatter: '{value}%' }, splitLine: { show: false } }
    ];
    opt.dataZoom = pts.length > 24 ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 8 }] : [];
    opt.series = [
      { name: '合同成交额', type: 'bar', data: amounts, barMaxWidth: 28, itemStyle: { color: '#1d4e89' } },
      { name: '技术交易额', type: 'bar', data: tech, barMaxWidth: 28, itemStyle: { color: '#7fa7d6' } },
      { name: '成交额同比增长', type: 'line', yAxisIndex: 1, data: yoy, connectNulls: false,
        symbol: 'circle', symbolSize: 7, itemStyle: { color: '#c23531' }, lineStyle: { width: 2 },
        label: { show: yoy.filter(function (v) { return v !== null; }).length <= 8, position: 'top',
          formatter: function (p) { return p.value === null ? '' : (p.value > 0 ? '+' : '') + p.value + '%'; },
          color: '#c23531', fontSize: 11, backgroundColor: 'rgba(255,255,255,0.85)', padding: [1, 3], borderRadius: 2 },
        markLine: { silent: true, symbol: 'none', data: [{ yAxis: 0 }], lineStyle: { color: '#c23531', type: 'dashed', opacity: 0.5 }, label: { show: false } } }
    ];
    if (!n) markEmpty('trend');
    return draw('trend', opt, n);
  }

  function breakdownTooltip(r) {
    var u = UNIT_ZH[unit()];
    return tooltipRows(r.label_zh || r.key, [
      ['合同数', fmtCount(r.count) + ' 项'],
      ['合同成交额', fmtAmount(r.contract_amount) + ' ' + u],
      ['技术交易额', fmtAmount(r.technology_amount) + ' ' + u],
      ['占比', r.share === null || r.share === undefined ? '—' : (r.share * 100).toFixed(1) + '%'],
      ['成交额同比', fmtPct(r.yoy && r.yoy.contract_amount)],
      ['排名', r.rank ? '第 ' + r.rank + ' 位' : '—']
    ]);
  }

  function renderKind() {
    var d = state.data.kind;
    var rows = (d.rows || []).filter(function (r) { return r.contract_amount !== null; });
    var u = UNIT_ZH[unit()];
    var opt = baseOption();
    opt.tooltip.trigger = 'item';
    opt.tooltip.formatter = function (p) { return breakdownTooltip(rows[p.dataIndex]); };
    opt.legend = { bottom: 0, left: 'center', itemGap: 14,
      formatter: function (name) {
        var r = rows.find(function (x) { return (x.label_zh || x.key) === name; });
        return name + '  ' + (r && r.share !== null && r.share !== undefined ? (r.share * 100).toFixed(1) + '%' : '');
      } };
    opt.title = { text: fmtAmount(d.total && d.total.contract_amount), subtext: '合计（' + u + '）',
      left: '49.5%', top: '38%', textAlign: 'center',
      textStyle: { fontSize: 18, fontWeight: 700, color: '#123e6e', fontFamily: FONT },
      subtextStyle: { color: '#5c6b7a', fontFamily: FONT } };
    opt.series = [{
      name: '合同类别', type: 'pie', radius: ['40%', '64%'], center: ['50%', '45%'],
      avoidLabelOverlap: true, itemStyle: { borderColor: '#fff', borderWidth: 2 },
      label: { formatter: function (p) { return p.name + '\n' + axisNum(p.value); }, fontSize: 12 },
      labelLine: { length: 10, length2: 8 },
      data: rows.map(function (r) { return { name: r.label_zh || r.key, value: round(inUnit(r.contract_amount), 4) }; })
    }];
    if (!rows.length) markEmpty('kind');
    return draw('kind', opt, rows.length);
  }

  function renderField() {
    var d = state.data.field;
    var rows = (d.rows || []).filter(function (r) { return r.contract_amount !== null; })
      .slice().sort(function (a, b) { return a.contract_amount - b.contract_amount; });
    var u = UNIT_ZH[unit()];
    var opt = baseOption();
    opt.grid = { left: 8, right: 90, top: 16, bottom: 24, containLabel: true };
    opt.tooltip.trigger = 'item';
    opt.tooltip.formatter = function (p) { return breakdownTooltip(rows[p.dataIndex]); };
    opt.xAxis = { type: 'value', name: u, nameLocation: 'end', axisLabel: { formatter: axisNum },
      splitLine: { lineStyle: { color: '#e9edf2' } } };
    opt.yAxis = { type: 'category', data: rows.map(function (r) { return r.label_zh || r.key; }),
      axisTick: { show: false }, axisLabel: { color: '#1f2a37' } };
    opt.series = [{
      name: '合同成交额', type: 'bar', barMaxWidth: 22,
      data: rows.map(function (r) { return round(inUnit(r.contract_amount), 4); }),
      itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [
        { offset: 0, color: '#5b8fd0' }, { offset: 1, color: '#1d4e89' }]) },
      label: { show: true, position: 'right', formatter: function (p) { return axisNum(p.value); }, color: '#1f2a37' }
    }];
    if (!rows.length) markEmpty('field');
    return draw('field', opt, rows.length);
  }

  function renderProvinces() {
    var d = state.data.provinces;
    var byKey = {};
    function add(rows, side) {
      (rows || []).forEach(function (r) {
        if (r.contract_amount === null) return;
        var e = byKey[r.key] || (byKey[r.key] = { key: r.key, label: r.label_zh || r.key, output: null, absorption: null });
        e[side] = r;
      });
    }
    add(d.output.rows, 'output');
    add(d.absorption.rows, 'absorption');
    var list = Object.keys(byKey).map(function (k) { return byKey[k]; });
    function amt(r) { return r ? r.contract_amount : 0; }
    list.sort(function (a, b) {
      return (amt(b.output) + amt(b.absorption)) - (amt(a.output) + amt(a.absorption)) || (a.key < b.key ? -1 : 1);
    });
    var u = UNIT_ZH[unit()];
    var opt = baseOption();
    opt.grid = { left: 70, right: 24, top: 44, bottom: list.length > 12 ? 70 : 40 };
    opt.legend = { top: 4, data: ['技术输出', '技术吸纳'] };
    opt.tooltip.trigger = 'axis';
    opt.tooltip.axisPointer = { type: 'shadow' };
    opt.tooltip.formatter = function (ps) {
      var e = list[ps[0].dataIndex];
      function line(r) { return r ? fmtAmount(r.contract_amount) + ' ' + u + '（' + fmtCount(r.count) + ' 项）' : '—'; }
      return tooltipRows(e.label, [
        ['技术输出', line(e.output)],
        ['技术吸纳', line(e.absorption)],
        ['输出排名', e.output && e.output.rank ? '第 ' + e.output.rank + ' 位' : '—'],
        ['吸纳排名', e.absorption && e.absorption.rank ? '第 ' + e.absorption.rank + ' 位' : '—']
      ]);
    };
    opt.xAxis = { type: 'category', data: list.map(function (e) { return e.label; }),
      axisLabel: { interval: 0, rotate: list.length > 12 ? 40 : 0, color: '#1f2a37' }, axisTick: { show: false } };
    opt.yAxis = { type: 'value', name: u, axisLabel: { formatter: axisNum }, splitLine: { lineStyle: { color: '#e9edf2' } } };
    opt.series = [
      { name: '技术输出', type: 'bar', barMaxWidth: 24, itemStyle: { color: '#1d4e89' },
        data: list.map(function (e) { return e.output ? round(inUnit(e.output.contract_amount), 4) : null; }) },
      { name: '技术吸纳', type: 'bar', barMaxWidth: 24, itemStyle: { color: '#e08e0b' },
        data: list.map(function (e) { return e.absorption ? round(inUnit(e.absorption.contract_amount), 4) : null; }) }
    ];
    if (!list.length) markEmpty('provinces');
    return draw('provinces', opt, list.length);
  }

  function renderFlows() {
    var d = state.data.flows;
    var items = (d.items || []).filter(function (it) { return it.contract_amount !== null; }).slice(0, 10);
    var u = UNIT_ZH[unit()];
    var names = {};
    var nodes = [];
    function node(side, r) {
      var id = side + ':' + r.key;
      if (!names[id]) {
        names[id] = r.label_zh || r.key;
        nodes.push({ name: id, itemStyle: { color: side === 'o' ? '#1d4e89' : '#e08e0b' } });
      }
      return id;
    }
    var links = items.map(function (it, i) {
      return { source: node('o', it.seller), target: node('a', it.buyer), value: round(inUnit(it.contract_amount), 4), idx: i };
    });
    var opt = baseOption();
    opt.tooltip.trigger = 'item';
    opt.tooltip.formatter = function (p) {
      if (p.dataType === 'edge') {
        var it = items[p.data.idx];
        return tooltipRows(names[p.data.source] + ' → ' + names[p.data.target], [
          ['合同数', fmtCount(it.count) + ' 项'],
          ['合同成交额', fmtAmount(it.contract_amount) + ' ' + u],
          ['技术交易额', fmtAmount(it.technology_amount) + ' ' + u]
        ]);
      }
      return tooltipRows(names[p.name] + (p.name.charAt(0) === 'o' ? '（输出）' : '（吸纳）'),
        [['成交额', axisNum(p.value) + ' ' + u]]);
    };
    opt.series = [{
      type: 'sankey', left: 8, right: 90, top: 16, bottom: 16, nodeWidth: 14, nodeGap: 10,
      nodeAlign: 'justify', layoutIterations: 32, draggable: false,
      emphasis: { focus: 'adjacency' },
      label: { formatter: function (p) { return names[p.name]; }, color: '#1f2a37', fontSize: 12 },
      lineStyle: { color: 'source', opacity: 0.28, curveness: 0.5 },
      data: nodes, links: links
    }];

    var tbody = document.querySelector('#flows-table tbody');
    tbody.textContent = '';
    items.forEach(function (it, i) {
      var tr = document.createElement('tr');
      [String(i + 1), it.seller.label_zh || it.seller.key, it.buyer.label_zh || it.buyer.key,
        fmtCount(it.count), fmtAmount(it.contract_amount)].forEach(function (v, j) {
        var td = document.createElement('td');
        td.textContent = v;
        if (j >= 3) td.className = 'num';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    if (!items.length) {
      var tr = document.createElement('tr');
      tr.className = 'empty-row';
      var td = document.createElement('td');
      td.colSpan = 5;
      td.textContent = '暂无数据';
      tr.appendChild(td);
      tbody.appendChild(tr);
      markEmpty('flows');
    }
    return draw('flows', opt, items.length);
  }

  function renderKpis() {
    // Any breakdown's total is the headline (they all count every contract).
    var d = state.data.kind || state.data.field;
    var t = d && d.total;
    function set(id, text, cls) { var el = $(id); el.textContent = text; el.className = cls || ''; }
    function yoyLine(id, x) {
      var el = $(id);
      el.textContent = '';
      el.className = 'kpi-yoy';
      el.appendChild(document.createTextNode('同比 '));
      var s = document.createElement('span');
      s.className = pctClass(x);
      s.textContent = fmtPct(x);
      el.appendChild(s);
    }
    if (!t) {
      ['kpi-count', 'kpi-amount', 'kpi-tech', 'kpi-yoy'].forEach(function (id) { set(id, '—'); });
      ['kpi-count-yoy', 'kpi-amount-yoy', 'kpi-tech-yoy', 'kpi-prev'].forEach(function (id) { $(id).textContent = '\u00a0'; });
      return;
    }
    var y = t.yoy || {};
    set('kpi-count', fmtCount(t.count));
    set('kpi-amount', fmtAmount(t.contract_amount));
    set('kpi-tech', fmtAmount(t.technology_amount));
    set('kpi-yoy', fmtPct(y.contract_amount), pctClass(y.contract_amount));
    yoyLine('kpi-count-yoy', y.count);
    yoyLine('kpi-amount-yoy', y.contract_amount);
    yoyLine('kpi-tech-yoy', y.technology_amount);
    var prev = t.previous;
    $('kpi-prev').textContent = prev
      ? '上年同期 ' + fmtAmount(prev.contract_amount) + ' ' + UNIT_ZH[unit()] + '，' + fmtCount(prev.count) + ' 项'
      : '上年同期数据不足，未计算';
  }

  var RENDER = { trend: renderTrend, kind: renderKind, field: renderField, provinces: renderProvinces, flows: renderFlows };

  /* ---------- loading ---------- */

  function levelBelow(region) {
    if (!region) return 'province';
    return region.length <= 2 ? 'city' : 'county';
  }

  function loaders(q) {
    var common = { from: q.from, to: q.to, region: q.region };
    var level = levelBelow(q.region);
    return {
      trend: function () {
        return api('/v1/stats/series', Object.assign({ interval: intervalFor(q), side: q.side }, common));
      },
      kind: function () {
        return api('/v1/stats/turnover', Object.assign({ by: 'kind', side: q.side }, common));
      },
      field: function () {
        return api('/v1/stats/turnover', Object.assign({ by: 'field', side: q.side }, common));
      },
      provinces: function () {
        return Promise.all([
          api('/v1/stats/turnover', Object.assign({ by: 'region', level: level, side: 'output' }, common)),
          api('/v1/stats/turnover', Object.assign({ by: 'region', level: level, side: 'absorption' }, common))
        ]).then(function (r) { return { output: r[0], absorption: r[1] }; });
      },
      flows: function () {
        return api('/v1/stats/flows', Object.assign({ level: level, limit: 10 }, common));
      }
    };
  }

  function renderOne(name) {
    clearChart(name);
    try {
      return Promise.resolve(RENDER[name]()).catch(function (e) { showProblem(name, e); });
    } catch (e) {
      showProblem(name, e);
      return Promise.resolve();
    }
  }

  /** Suppressed cells of a chart's response(s), or null when every response is in full detail. */
  function suppressedOf(d) {
    var parts = d && d.output ? [d.output, d.absorption] : [d];
    var pub = parts.some(function (x) { return x && x.detail && x.detail !== 'full'; });
    if (!pub) return null;
    return parts.reduce(function (n, x) { return n + ((x && x.suppressed) || 0); }, 0);
  }

  function noteSuppressed(name) {
    var head = chartEl(name).closest('.panel').querySelector('.panel-head');
    var note = head.querySelector('.panel-suppressed');
    if (!note) {
      note = document.createElement('span');
      note.className = 'panel-suppressed';
      head.insertBefore(note, head.querySelector('.panel-unit'));
    }
    var n = state.data[name] ? suppressedOf(state.data[name]) : null;
    note.textContent = n ? '公开视图：' + n + ' 个单元不足 3 项，已隐去' : '';
  }

  function describeView() {
    var loaded = CHARTS.filter(function (n) { return state.data[n]; });
    var pub = loaded.filter(function (n) { return suppressedOf(state.data[n]) !== null; });
    var hidden = pub.some(function (n) { return suppressedOf(state.data[n]) > 0; });
    $('view-label').textContent = !loaded.length ? '—'
      : pub.length ? '公开视图 · Public view' : '完整视图 · Full detail';
    if (hidden) {
      showNotice('公开视图：不足 3 项合同的单元（含无合同的时段）不予公布，图中留空；合计数包含全部合同。' +
        '统计分析人员填写访问令牌可查看所辖地区的完整数据。');
    }
  }

  function refresh() {
    var gen = ++state.generation;
    var q = state.query;
    document.body.dataset.ready = 'false';
    $('alerts').textContent = '';
    document.querySelectorAll('[data-problem-for]').forEach(function (el) { el.textContent = ''; });
    $('period-label').textContent = periodLabel(q) + ' · ' + regionLabel(q.region);
    document.querySelectorAll('.unit-label').forEach(function (el) { el.textContent = UNIT_ZH[q.unit]; });
    var title = $('provinces-title');
    title.firstChild.textContent = (q.region ? (q.region.length <= 2 ? '各地市' : '各区县') : '各省份') + '技术输出与吸纳 ';
    state.data = {};
    CHARTS.forEach(clearChart);
    CHARTS.forEach(noteSuppressed);
    renderKpis();

    if (typeof window.echarts === 'undefined') {
      showProblem(null, new ApiProblem('图表库未能加载', '/dashboard/assets/echarts.min.js', 0, null));
      document.body.dataset.ready = 'true';
      return Promise.resolve();
    }
    var load = loaders(q);
    var tasks = CHARTS.map(function (name) {
      return load[name]().then(function (data) {
        if (gen !== state.generation) return;
        state.data[name] = data;
        if (name === 'kind' || name === 'field') renderKpis();
        noteSuppressed(name);
        return renderOne(name);
      }, function (e) {
        if (gen !== state.generation) return;
        showProblem(name, e);
        if (name === 'flows') document.querySelector('#flows-table tbody').textContent = '';
      });
    });
    return Promise.all(tasks).then(function () {
      if (gen !== state.generation) return;
      describeView();
      document.body.dataset.ready = 'true';
    });
  }

  /** Re-draws from the loaded data (a change of unit needs no new request). */
  function rerender() {
    var gen = ++state.generation;
    document.body.dataset.ready = 'false';
    document.querySelectorAll('.unit-label').forEach(function (el) { el.textContent = UNIT_ZH[unit()]; });
    renderKpis();
    var tasks = CHARTS.filter(function (n) { return state.data[n]; }).map(renderOne);
    return Promise.all(tasks).then(function () {
      if (gen === state.generation) document.body.dataset.ready = 'true';
    });
  }

  /* ---------- filters ---------- */

  function regionLabel(region) {
    if (!region) return '全国';
    var prov = state.regions[(region.substr(0, 2) + '0000')];
    var city = region.length >= 4 ? state.regions[region.substr(0, 4) + '00'] : null;
    var out = prov ? prov : region;
    if (city && city !== prov) out += ' ' + city;
    return out;
  }

  function option(select, value, text) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  function loadProvinces() {
    return api('/v1/meta/regions').then(function (list) {
      var sel = $('f-province');
      list.forEach(function (r) {
        state.regions[r.code] = r.name;
        option(sel, r.code.substr(0, 2), r.name);
      });
    }, function (e) { showProblem(null, e); });
  }

  function loadCities(prov) {
    var sel = $('f-city');
    sel.textContent = '';
    option(sel, '', '全部地市');
    sel.disabled = !prov;
    if (!prov) return Promise.resolve();
    return api('/v1/meta/regions', { parent: prov + '0000' }).then(function (list) {
      list.forEach(function (r) {
        state.regions[r.code] = r.name;
        option(sel, r.code.substr(0, 4), r.name);
      });
    }, function (e) { showProblem(null, e); });
  }

  function syncPeriodInputs() {
    var mode = $('f-mode').value;
    $('f-year').hidden = mode === 'custom';
    $('f-quarter').hidden = mode !== 'quarter';
    $('f-month').hidden = mode !== 'month';
    $('f-from').hidden = mode !== 'custom';
    $('f-dash').hidden = mode !== 'custom';
    $('f-to').hidden = mode !== 'custom';
  }

  function readForm() {
    var f = {
      mode: $('f-mode').value, year: $('f-year').value, quarter: $('f-quarter').value,
      month: $('f-month').value, from: $('f-from').value, to: $('f-to').value
    };
    var p = periodOf(f);
    return {
      from: p.from, to: p.to,
      region: $('f-city').value || $('f-province').value || '',
      side: $('f-side').value, unit: $('f-unit').value
    };
  }

  function ensureYear(y) {
    var sel = $('f-year');
    if (!Array.prototype.some.call(sel.options, function (o) { return +o.value === y; })) {
      option(sel, String(y), y + '年');
    }
  }

  function writeForm(q) {
    var m = modeOf(q.from, q.to);
    var now = beijingNow();
    if (m) {
      ensureYear(m.year);
      $('f-mode').value = m.mode;
      $('f-year').value = String(m.year);
      if (m.quarter) $('f-quarter').value = String(m.quarter);
      if (m.month) $('f-month').value = String(m.month);
    } else {
      $('f-mode').value = 'custom';
      $('f-year').value = String(now.getUTCFullYear());
    }
    $('f-from').value = q.from;
    $('f-to').value = q.to;
    $('f-side').value = q.side;
    $('f-unit').value = q.unit;
    syncPeriodInputs();
  }

  function queryFromUrl() {
    var p = new URLSearchParams(location.search);
    var y = beijingNow().getUTCFullYear();
    var from = parseDate(p.get('from')) ? p.get('from') : ymd(y, 1, 1);
    var to = parseDate(p.get('to')) ? p.get('to') : ymd(y, 12, 31);
    var region = /^\d{2}(\d{2}(\d{2})?)?$/.test(p.get('region') || '') ? p.get('region') : '';
    if (region.length === 6 && /0000$/.test(region)) region = region.substr(0, 2);
    else if (region.length === 6 && /00$/.test(region)) region = region.substr(0, 4);
    return {
      from: from, to: to, region: region,
      side: p.get('side') === 'absorption' ? 'absorption' : 'output',
      unit: p.get('unit') === 'yi' ? 'yi' : 'wan'
    };
  }

  function writeUrl(q) {
    var p = new URLSearchParams();
    p.set('from', q.from);
    p.set('to', q.to);
    if (q.region) p.set('region', q.region);
    if (q.side !== 'output') p.set('side', q.side);
    if (q.unit !== 'wan') p.set('unit', q.unit);
    history.replaceState(null, '', location.pathname + '?' + p.toString());
  }

  function validPeriod(q) {
    if (!parseDate(q.from) || !parseDate(q.to)) return '请选择起止日期';
    if (q.from > q.to) return '起始日期晚于截止日期';
    return null;
  }

  function init() {
    var now = beijingNow();
    var yearSel = $('f-year');
    for (var y = now.getUTCFullYear(); y >= now.getUTCFullYear() - 9; y--) option(yearSel, String(y), y + '年');
    var monthSel = $('f-month');
    for (var m = 1; m <= 12; m++) option(monthSel, String(m), m + '月');
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) $('f-token').value = saved;

    state.query = queryFromUrl();
    writeForm(state.query);

    $('f-mode').addEventListener('change', function () {
      if ($('f-mode').value === 'custom' && !$('f-from').value) {
        var p = periodOf({ mode: 'year', year: $('f-year').value });
        $('f-from').value = p.from;
        $('f-to').value = p.to;
      }
      syncPeriodInputs();
    });
    $('f-province').addEventListener('change', function () { loadCities($('f-province').value); });
    $('f-unit').addEventListener('change', function () {
      state.query.unit = $('f-unit').value;
      writeUrl(state.query);
      rerender();
    });
    $('filters').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = token();
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
      var q = readForm();
      var bad = validPeriod(q);
      if (bad) {
        $('alerts').textContent = '';
        showProblem(null, new ApiProblem('统计期有误', bad, 0, null));
        return;
      }
      state.query = q;
      writeUrl(q);
      refresh();
    });
    $('f-reset').addEventListener('click', function () {
      sessionStorage.removeItem(TOKEN_KEY);
      $('f-token').value = '';
      var y0 = beijingNow().getUTCFullYear();
      state.query = { from: ymd(y0, 1, 1), to: ymd(y0, 12, 31), region: '', side: 'output', unit: 'wan' };
      writeForm(state.query);
      $('f-province').value = '';
      loadCities('');
      writeUrl(state.query);
      refresh();
    });
    window.addEventListener('resize', function () {
      CHARTS.forEach(function (n) { if (state.charts[n]) state.charts[n].resize(); });
    });

    var region = state.query.region;
    loadProvinces().then(function () {
      var prov = region ? region.substr(0, 2) : '';
      $('f-province').value = prov;
      return loadCities(prov);
    }).then(function () {
      if (region.length >= 4) $('f-city').value = region.substr(0, 4);
    }).then(refresh, refresh);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
