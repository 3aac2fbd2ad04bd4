"""A self-contained HTML page: the SVG with folding and hover details."""

from __future__ import annotations

from inceptionspec.core import escape as esc
from inceptionspec.render.svg import _svg
from inceptionspec.render.tree import Diagram

# --- HTML ---------------------------------------------------------------------------

_PAGE_CSS = """
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f6f7f9;color:#1f2933}
header{padding:8px 16px;background:#fff;border-bottom:1px solid #dde2e7;position:sticky;top:0;z-index:2}
header span{font-size:13px;color:#52606d;margin-left:8px}
header button{margin:0 6px 0 0;font:inherit;font-size:12px;padding:3px 10px;border:1px solid #b8c2cc;
  border-radius:4px;background:#fff;cursor:pointer}
header button:hover{background:#eef2f6}
main{padding:16px;overflow:auto}
svg.isr{background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.12);display:block}
svg .ttl{cursor:pointer}
svg .ttl:hover .tb{fill:#d5dee8}
svg .tg{fill:#52606d}
svg .folded .body{display:none}
svg .fs{display:none}
svg .folded .fs{display:inline}
svg .u:hover rect{stroke-width:2.2}
#tip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;font:12px/1.45 monospace;
  padding:6px 9px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;display:none;z-index:5;max-width:72ch}
"""

_PAGE_JS = """
(function(){
  var svg=document.querySelector('svg.isr'), L=JSON.parse(svg.getAttribute('data-layout'));
  var rows=[].slice.call(svg.querySelectorAll('g.row')), sides=[].slice.call(svg.querySelectorAll('g.side'));
  var tip=document.getElementById('tip');
  [].slice.call(svg.querySelectorAll('g.u > title, g.ttl > title, path > title')).forEach(function(t){
    t.parentNode.setAttribute('data-tip', t.textContent); t.parentNode.removeChild(t);
  });
  function relayout(){
    var y=L.top, bottoms=[], bottom=0;
    rows.forEach(function(r,i){
      if(i) y+=L.gap;
      var folded=r.classList.contains('folded');
      r.setAttribute('transform','translate(0,'+(y-parseFloat(r.getAttribute('data-y0')))+')');
      [].slice.call(r.querySelectorAll('[data-hc]')).forEach(function(e){
        if(e===r) return; e.setAttribute('height', e.getAttribute(folded?'data-hc':'data-ho'));
      });
      y+=parseFloat(r.getAttribute(folded?'data-hc':'data-ho')); bottoms.push(y);
    });
    bottom=y; var prev=L.top-L.vgap;
    sides.forEach(function(s,j){
      var m=L.sides[j], conn=bottoms[m.tap]+L.gap/2, h=parseFloat(s.getAttribute('data-h'));
      var top=Math.max(conn-L.title/2, prev+L.vgap); prev=top+h; bottom=Math.max(bottom, prev);
      s.setAttribute('transform','translate(0,'+(top-parseFloat(s.getAttribute('data-y0')))+')');
      var c=svg.querySelector('path.cn[data-side="'+j+'"]'), d=svg.querySelector('circle[data-side="'+j+'"]');
      c.setAttribute('d','M'+L.axis+' '+conn+'H'+m.gx+'V'+(top+L.title/2)+'H'+m.sx); d.setAttribute('cy',conn);
    });
    var H=bottom+L.margin, W=parseFloat(svg.getAttribute('width'));
    svg.setAttribute('height',H); svg.setAttribute('viewBox','0 0 '+W+' '+H);
    svg.querySelector('rect.bg').setAttribute('height',H);
  }
  function setFold(r,on){
    r.classList.toggle('folded',on);
    var t=r.querySelector('.tg'); if(t) t.textContent=on?'\\u25b8':'\\u25be';
  }
  rows.forEach(function(r){
    if(!r.classList.contains('fold')) return;
    r.querySelector('.ttl').addEventListener('click',function(){
      setFold(r,!r.classList.contains('folded')); relayout();
    });
  });
  function all(on){ rows.forEach(function(r){ if(r.classList.contains('fold')) setFold(r,on); }); relayout(); }
  document.getElementById('fold-all').onclick=function(){all(true);};
  document.getElementById('unfold-all').onclick=function(){all(false);};
  svg.addEventListener('mousemove',function(ev){
    var t=ev.target.closest ? ev.target.closest('[data-tip]') : null;
    if(!t){ tip.style.display='none'; return; }
    tip.textContent=t.getAttribute('data-tip'); tip.style.display='block';
    var x=ev.clientX+14, y=ev.clientY+14, w=tip.offsetWidth, h=tip.offsetHeight;
    if(x+w>window.innerWidth-4) x=ev.clientX-w-10;
    if(y+h>window.innerHeight-4) y=ev.clientY-h-10;
    tip.style.left=x+'px'; tip.style.top=y+'px';
  });
  svg.addEventListener('mouseleave',function(){ tip.style.display='none'; });
  relayout();
})();
"""


_HEAD = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
)
_HEADER = (
    "</head>\n<body>\n<header>\n"
    '<button id="fold-all" type="button">fold all blocks</button>'
    '<button id="unfold-all" type="button">unfold all blocks</button>\n'
    "<span>Click a block's title to fold or unfold it; hover a layer for its shape, parameters and "
    "multiply-adds.</span>\n</header>\n<main>\n"
)
_FOOT = '</main>\n<div id="tip"></div>\n'


def _html(d: Diagram) -> str:
    """The page: constant markup, the SVG (built by the escaping builders), the diagram's name as
    escaped text; the script reads user text only through ``textContent`` and attributes."""
    newline = esc.Markup("\n")
    return (
        esc.Markup(_HEAD)
        + esc.element("title", d.name, " — inceptionspec")
        + newline
        + esc.element("style", esc.Markup(_PAGE_CSS))
        + newline
        + esc.Markup(_HEADER)
        + _svg(d, html=True)
        + esc.Markup(_FOOT)
        + esc.element("script", esc.Markup(_PAGE_JS))
        + esc.Markup("\n</body>\n</html>\n")
    )
