(function () {
'use strict';
var svg = document.getElementById('leakbpf-fg');
var XPAD = +svg.getAttribute('data-xpad'), FW = +svg.getAttribute('data-fw');
var CW = +svg.getAttribute('data-font') * 0.59;
var details = document.getElementById('details'), matched = document.getElementById('matched');
var unzoomBtn = document.getElementById('unzoom'), searchBtn = document.getElementById('search');
var frames = [], root = null, lastTerm = '', searching = false;
var gs = svg.querySelectorAll('g.fg');
for (var i = 0; i < gs.length; i++) {
  var g = gs[i], r = g.querySelector('rect.f'), tip = g.querySelector('title').textContent;
  var f = { g: g, rect: r, text: g.querySelector('text'), tip: tip,
    name: tip.split('\n')[0], s: +g.getAttribute('data-s'), b: +g.getAttribute('data-b'),
    d: +g.getAttribute('data-d'), fill: r.getAttribute('fill') };
  g.fgFrame = f;
  frames.push(f);
  if (f.d === 0) root = f;
}
function human(b) {
  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'], i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return i ? b.toFixed(2) + ' ' + u[i] : b + ' B';
}
function fit(name, w) {
  var n = Math.floor((w - 6) / CW);
  if (n < 3) return '';
  return name.length <= n ? name : name.substring(0, n - 2) + '..';
}
function place(f, x, w) {
  f.rect.setAttribute('x', (XPAD + x).toFixed(2));
  f.rect.setAttribute('width', w.toFixed(2));
  f.text.setAttribute('x', (XPAD + x + 3).toFixed(2));
  f.text.textContent = fit(f.name, w);
}
function show(f, on) { f.g.style.display = on ? '' : 'none'; }
/* Zoom: z spans the width, its subtree scales with it, its ancestors
   stay full width (faded), everything else hides. */
function zoom(z) {
  if (!root || !z.b) return;
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    if (f.d < z.d) {
      var anc = f.s <= z.s && f.s + f.b >= z.s + z.b;
      show(f, anc);
      if (anc) place(f, 0, FW);
      f.g.classList.toggle('anc', anc);
    } else {
      var inside = f.s >= z.s && f.s + f.b <= z.s + z.b;
      show(f, inside);
      if (inside) place(f, (f.s - z.s) / z.b * FW, f.b / z.b * FW);
      f.g.classList.remove('anc');
    }
  }
  unzoomBtn.style.display = z === root ? 'none' : '';
}
/* Matched share: a match nested in a counted match adds nothing. */
function search(term) {
  var re;
  try { re = new RegExp(term); } catch (e) { matched.textContent = 'bad regex: ' + e.message; return; }
  var hits = [];
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i], m = f.d > 0 && re.test(f.name);
    f.rect.setAttribute('fill', m ? 'rgb(230,0,230)' : f.fill);
    if (m) hits.push(f);
  }
  hits.sort(function (a, b) { return a.s - b.s || a.d - b.d; });
  var sum = 0, end = -1;
  for (var j = 0; j < hits.length; j++)
    if (hits[j].s >= end) { sum += hits[j].b; end = hits[j].s + hits[j].b; }
  var total = root ? root.b : 0;
  matched.textContent = 'Matched /' + term + '/: ' + human(sum) + ' (' +
    (total ? (100 * sum / total).toFixed(2) : '0.00') + '%), ' + hits.length + ' frames';
  searching = true;
  lastTerm = term;
  searchBtn.textContent = 'Reset Search';
}
function clearSearch() {
  for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute('fill', frames[i].fill);
  matched.textContent = ' ';
  searching = false;
  searchBtn.textContent = 'Search';
}
function askSearch() {
  var term = window.prompt('Search frames (regular expression):', lastTerm);
  if (term) search(term);
}
function frameOf(el) {
  for (; el && el !== svg; el = el.parentNode) if (el.fgFrame) return el.fgFrame;
  return null;
}
svg.addEventListener('click', function (e) { var f = frameOf(e.target); if (f) zoom(f); });
svg.addEventListener('mouseover', function (e) {
  var f = frameOf(e.target);
  details.textContent = f ? f.tip.replace(/\n/g, ' | ') : ' ';
});
unzoomBtn.addEventListener('click', function (e) { e.stopPropagation(); if (root) zoom(root); });
searchBtn.addEventListener('click', function (e) {
  e.stopPropagation();
  if (searching) clearSearch(); else askSearch();
});
window.addEventListener('keydown', function (e) {
  if (e.key === 'F3' || ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F'))) {
    e.preventDefault();
    askSearch();
  } else if (e.key === 'Escape') {
    clearSearch();
    if (root) zoom(root);
  }
});
})();
