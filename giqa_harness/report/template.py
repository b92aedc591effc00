"""The report page: CSS and a little JavaScript for filters and sorting, all inline (works offline)."""

from string import Template

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 8px}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;background:#fff;padding:8px;border:1px solid #ddd}
.controls{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ddd;z-index:5}
.controls label{margin-right:12px}
.key{display:inline-block;border:3px solid;padding:0 6px;margin-right:8px;font-size:12px}
.key.dashed{border-style:dashed}
.card{background:#fff;border:1px solid #ddd;margin:12px 0;padding:8px}
.card header{font-size:13px;color:#555;margin-bottom:4px}
.runs{display:flex;flex-wrap:wrap;gap:12px}
.run{width:420px}
.run h4{margin:4px 0;font-size:13px}
.imgbox{position:relative;display:inline-block;width:400px;line-height:0}
.imgbox img{width:100%;display:block}
.imgbox svg{position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible}
.imgbox rect{fill:none;stroke-width:3px;vector-effect:non-scaling-stroke}
.lbl{position:absolute;font-size:10px;line-height:12px;color:#fff;padding:0 2px;transform:translateY(-100%);white-space:nowrap;
max-width:100%;box-sizing:border-box;overflow:hidden;text-overflow:ellipsis}
.noscore{color:#888}
.notice{background:#fff4e5;border:1px solid #f5a200;padding:6px 8px;margin:8px 0;font-size:13px}
mark{background:#ffe58f}
.failed{color:#b00020}.warn{color:#a66300;font-size:12px}
table.scores{font-size:12px;border-collapse:collapse}table.scores td{padding:0 8px 0 0}
.hidden{display:none}
table.metrics{font-size:12px;border-collapse:collapse;background:#fff;margin:4px 0}
table.metrics td,table.metrics th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
tr.incomplete td{background:#fff4e5}.na{color:#888}.problems{color:#b00020}
details.prompt{font-size:12px;margin-top:4px}details.prompt pre{white-space:pre-wrap;background:#f4f4f4;padding:4px;margin:2px 0}
</style></head><body>
<h1>$title</h1>
<ul>$runs</ul>
$notice<div class="charts">$bars $radar</div>
$summary
<div class="controls">
<label>task <select id="f-task"><option value="">all</option>$task_options</select></label>
<label>kind <select id="f-kind"><option value="">all</option>$kind_options</select></label>
<label><input type="checkbox" id="f-failed"> failed or malformed parses</label>
<label><input type="checkbox" id="f-low"> sample mIoU below <input id="f-thr" type="number" value="0.5" step="0.05" min="0" max="1" style="width:4em"></label>
<label>sort <select id="f-sort"><option value="id">doc id</option><option value="miou-asc">mIoU ascending</option><option value="miou-desc">mIoU descending</option></select></label>
<span id="shown">$count</span> of $count shown · $legend
</div>
<main id="cards">
$cards
</main>
<script>
const IMAGES = $images;
// Labels start at their box's top-left corner, above the box; one that would leave the image goes inside
// it, and one that would cover an earlier label moves below it (from the top again if it runs out of room).
function placeLabels(box) {
  const W = box.clientWidth, H = box.clientHeight;
  if (!W || !H) return;
  const placed = [];
  for (const l of box.querySelectorAll('.lbl')) {
    l.style.transform = 'none';
    const w = Math.min(l.offsetWidth, W), h = l.offsetHeight;
    const x = Math.max(0, Math.min(parseFloat(l.dataset.x) * W, W - w));
    const corner = parseFloat(l.dataset.y) * H;
    const hit = y => placed.find(p => x < p.x + p.w && p.x < x + w && y < p.y + p.h && p.y < y + h);
    const settle = y => { for (let p = hit(y); p; p = hit(y)) y = p.y + p.h; return y; };
    let y = settle(corner - h >= 0 ? corner - h : corner);
    if (y + h > H) y = settle(0);
    if (y + h > H) y = H - h;  // more labels than room: the last ones may overlap
    l.style.left = x + 'px'; l.style.top = y + 'px';
    placed.push({x, y, w, h});
  }
}
document.querySelectorAll('img[data-img]').forEach(img => {
  img.addEventListener('load', () => placeLabels(img.parentElement));
  img.src = IMAGES[img.dataset.img];
});
const cards = Array.from(document.querySelectorAll('.card'));
function apply() {
  const task = document.getElementById('f-task').value, kind = document.getElementById('f-kind').value;
  const failed = document.getElementById('f-failed').checked, low = document.getElementById('f-low').checked;
  const thr = parseFloat(document.getElementById('f-thr').value);
  let shown = 0;
  for (const c of cards) {
    const m = c.dataset.miou === '' ? null : parseFloat(c.dataset.miou);
    const ok = (!task || c.dataset.task === task) && (!kind || c.dataset.kind === kind)
      && (!failed || c.dataset.failed === '1') && (!low || (m !== null && m < thr));
    c.classList.toggle('hidden', !ok); shown += ok;
  }
  document.getElementById('shown').textContent = shown;
  cards.forEach(c => { if (!c.classList.contains('hidden')) c.querySelectorAll('.imgbox').forEach(placeLabels); });
  const sort = document.getElementById('f-sort').value, main = document.getElementById('cards');
  const key = c => c.dataset.miou === '' ? -1 : parseFloat(c.dataset.miou);
  const sorted = cards.slice().sort((a, b) => sort === 'id' ? 0 : sort === 'miou-asc' ? key(a) - key(b) : key(b) - key(a));
  sorted.forEach(c => main.appendChild(c));
}
document.querySelectorAll('.controls select, .controls input').forEach(e => e.addEventListener('change', apply));
</script>
</body></html>
""")
