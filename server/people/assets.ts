/** The remediation page's stylesheet and progressive-enhancement script, served from /device/assets/. */

export const PAGE_CSS = `
:root{--bg:#f6f7f9;--card:#ffffff;--text:#1b1f24;--muted:#4f5661;--line:#c9ced6;--accent:#1f4fd1;--accent-text:#ffffff;
--ok:#146c2e;--ok-bg:#e6f4ea;--fail:#a3330b;--fail-bg:#fdeee6;--stale:#6b4f00;--stale-bg:#fff5d6;--err:#5b3fa3;--err-bg:#efeafb;
--unk:#45505e;--unk-bg:#eceff3;--focus:#1f4fd1;--radius:10px}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#1a1e24;--text:#e8eaed;--muted:#b3bac4;--line:#3b434e;--accent:#8fb0ff;
--accent-text:#0b1020;--ok:#7fd497;--ok-bg:#143320;--fail:#ffab85;--fail-bg:#3a1d10;--stale:#f3d36b;--stale-bg:#332a08;--err:#c8b6ff;
--err-bg:#261d40;--unk:#c3cad3;--unk-bg:#262c34;--focus:#8fb0ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;overflow-wrap:anywhere}
.wrap{max-width:46rem;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:2}
.skip:focus{left:1rem}
.top{background:var(--card);border-bottom:1px solid var(--line)}
.top .wrap{display:flex;align-items:center;gap:.75rem;min-height:3.25rem}
.brand{font-weight:700;display:flex;align-items:center;gap:.5rem}
.logo{width:1.1rem;height:1.1rem;border-radius:4px;background:var(--accent);display:inline-block}
.top-sub{color:var(--muted);border-left:1px solid var(--line);padding-left:.75rem}
main{padding-top:1.5rem;padding-bottom:1rem}
main:focus{outline:none}
h1{font-size:1.6rem;line-height:1.25;margin:.75rem 0 .75rem}
h2{font-size:1.2rem;margin:1.75rem 0 .75rem}
h3{font-size:1.05rem;margin:0}
.context{color:var(--muted);margin:.25rem 0}
.muted{color:var(--muted)}
.serial,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.status{min-height:1.5rem;margin:1rem 0;font-weight:600}
.status:empty{margin:0;min-height:.5rem}
.status.restored,.status.granted{color:var(--ok)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1rem 1.25rem;margin:1rem 0}
.card p{margin:.5rem 0}
.card h2{margin:.25rem 0 .5rem}
.ok-card{border-left:6px solid var(--ok)}
.granted-card{border-left:6px solid var(--accent)}
.pending-card{border-left:6px solid var(--stale)}
.checks{list-style:none;margin:0;padding:0;display:grid;gap:.75rem}
.check{background:var(--card);border:1px solid var(--line);border-left-width:6px;border-radius:var(--radius);padding:1rem 1.25rem}
.check.is-fail{border-left-color:var(--fail)}.check.is-stale{border-left-color:var(--stale)}
.check.is-error{border-left-color:var(--err)}.check.is-unknown{border-left-color:var(--unk)}.check.is-pass{border-left-color:var(--ok)}
.checks.compact .check{padding:.6rem 1rem}
.check-head{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem}
.msg p{margin:.5rem 0}.msg ol,.msg ul{margin:.5rem 0;padding-left:1.4rem}
.meta{color:var(--muted);font-size:.9rem;margin:.5rem 0 0}
.doc{margin:.5rem 0 0}
.badge{display:inline-flex;align-items:center;gap:.35rem;font-size:.85rem;font-weight:600;padding:.15rem .6rem;border-radius:999px;border:1px solid currentColor;white-space:nowrap}
.badge .icon{font-weight:800}
.badge.is-pass{color:var(--ok);background:var(--ok-bg)}.badge.is-fail{color:var(--fail);background:var(--fail-bg)}
.badge.is-stale{color:var(--stale);background:var(--stale-bg)}.badge.is-error{color:var(--err);background:var(--err-bg)}
.badge.is-unknown{color:var(--unk);background:var(--unk-bg)}
a{color:var(--accent);text-underline-offset:2px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;padding:.5rem 1.1rem;border-radius:8px;
border:2px solid var(--accent);background:var(--card);color:var(--accent);font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
.btn.primary{background:var(--accent);color:var(--accent-text)}
.btn[aria-disabled=true]{opacity:.75;cursor:progress}
.recheck{margin:1.5rem 0}
.recheck-form{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem}
.cooldown{color:var(--muted)}
.steps{margin:.5rem 0 1rem;padding-left:1.4rem}
.steps .done{color:var(--ok)}.steps .current{font-weight:600}
.hint{color:var(--muted)}
.passed{margin:1.5rem 0}
.passed>summary,.emergency summary{cursor:pointer;min-height:44px;display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
.passed>summary{font-weight:600}
summary{list-style:none}
summary::-webkit-details-marker{display:none}
.passed>summary::before,.emergency summary::before{content:"";width:.55rem;height:.55rem;border-right:2px solid currentColor;border-bottom:2px solid currentColor;transform:rotate(-45deg);margin-right:.35rem;flex:none;transition:transform .15s}
.passed[open]>summary::before,.emergency details[open]>summary::before{transform:rotate(45deg)}
.emergency{margin:2rem 0 1rem;border-top:1px solid var(--line);padding-top:.5rem}
.emergency summary h2{display:inline;margin:0;font-size:1.15rem}
.summary-hint{color:var(--muted)}
.details-body{padding:.25rem 0}
.field{margin:1rem 0;border:0;padding:0}
label,legend{font-weight:600;display:block}
.req{font-weight:400;color:var(--muted)}
textarea{width:100%;font:inherit;padding:.6rem;border:2px solid var(--line);border-radius:8px;background:var(--card);color:var(--text)}
textarea:focus-visible{border-color:var(--focus)}
.has-error textarea{border-color:var(--fail)}
.field-error{color:var(--fail);font-weight:600;margin:.25rem 0}
.radios{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.4rem}
.radio{display:flex;align-items:center;gap:.4rem;min-height:44px;padding:0 .9rem;border:2px solid var(--line);border-radius:8px;font-weight:400;cursor:pointer}
.radio input{width:1.1rem;height:1.1rem;margin:0}
.radio:has(input:checked){border-color:var(--accent)}
.consequences{color:var(--muted);padding-left:1.2rem}
.error-summary{border:3px solid var(--fail);border-radius:var(--radius);padding:.75rem 1rem;margin:1rem 0;background:var(--card)}
.error-summary h3{margin:0 0 .25rem}
.notice{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem}
.notice.warn{border-color:var(--stale);background:var(--stale-bg);color:var(--text)}
.foot{border-top:1px solid var(--line);margin-top:2rem;padding-top:1rem;padding-bottom:2rem;color:var(--muted);font-size:.92rem}
.foot p{margin:.3rem 0}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.js .nojs-only{display:none}
@media (max-width:480px){h1{font-size:1.35rem}.card,.check{padding:.85rem 1rem}.btn{width:100%}}
@media (prefers-reduced-motion:no-preference){.steps .current::after{content:"";display:inline-block;width:.7em;height:.7em;margin-left:.4em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite;vertical-align:-.05em}}
@keyframes spin{to{transform:rotate(360deg)}}
`;

/** Progressive enhancement only: the page is complete without it. */
export const PAGE_JS = `(function(){
'use strict';
var doc=document;doc.documentElement.classList.add('js');
var main=doc.getElementById('main');if(!main||!main.dataset.token)return;
var token=main.dataset.token,version=main.dataset.version,state=main.dataset.state;
var q='?t='+encodeURIComponent(token);
var es=null,poll=null,skew=0,lastAnnounced=null,stopped=false;
function $(id){return doc.getElementById(id);}
function announce(text){var live=$('live');if(!live)return;if(text&&text!==lastAnnounced){live.textContent=text;lastAnnounced=text;}else if(!text){live.textContent='';}}
function focusSummary(){var s=$('error-summary');if(s){s.focus();}}
function keepFocus(container,fn){var a=doc.activeElement,id=a&&container.contains(a)?a.id:null;fn();if(id&&$(id))$(id).focus();}
function swap(){fetch('/device/fragment'+q,{headers:{Accept:'application/json'},credentials:'same-origin'}).then(function(r){return r.ok?r.json():null;}).then(function(f){
 if(!f)return;var ca=$('checks-area'),ba=$('bg-area');
 if(ca)keepFocus(ca,function(){ca.innerHTML=f.checks;});
 var form=$('bg-form'),reason=$('bg-reason');var busy=form&&(form.contains(doc.activeElement)||(reason&&reason.value.trim()!==''));
 if(ba&&!busy)keepFocus(ba,function(){ba.innerHTML=f.emergency;});
 enhance();});}
function apply(s){
 if(s.server_now)skew=s.server_now-Date.now();
 doc.title=s.title;var h=$('h1');if(h&&h.textContent!==s.h1)h.textContent=s.h1;
 var lr=$('last-report');if(lr)lr.textContent=s.last_report;
 var live=$('live');if(live){live.className='status '+s.state;}
 if(s.version!==version){version=s.version;state=s.state;main.dataset.state=s.state;announce(s.status_text);swap();}
 else if(s.status_text&&s.status_text!==lastAnnounced&&s.state!==state){announce(s.status_text);}
 if(s.state==='restored'||s.state==='granted'){ /* keep listening: access may change again */ }
}
function onExpired(){stop();stopped=true;announce('This link has expired. Open the app again to get a new one.');}
function startPoll(){if(poll||stopped)return;poll=setInterval(function(){fetch('/device/status'+q,{headers:{Accept:'application/json'}}).then(function(r){if(r.status===410||r.status===403){onExpired();return null;}return r.ok?r.json():null;}).then(function(s){if(s)apply(s);}).catch(function(){});},3000);}
function start(){if(stopped||doc.hidden)return;if(window.EventSource){if(es)return;es=new EventSource('/device/events'+q);
 es.addEventListener('status',function(e){try{apply(JSON.parse(e.data));}catch(_){}});
 es.addEventListener('expired',function(){onExpired();});
 es.onerror=function(){if(es&&es.readyState===2){es=null;startPoll();}};}else startPoll();}
function stop(){if(es){es.close();es=null;}if(poll){clearInterval(poll);poll=null;}}
doc.addEventListener('visibilitychange',function(){if(doc.hidden)stop();else start();});
window.addEventListener('focus',start);
function tick(){var now=Date.now()+skew;
 var el=doc.querySelector('.elapsed[data-since]');if(el){var s=Math.max(0,Math.round((now-Number(el.dataset.since))/1000));el.textContent='('+s+' s)';}
 var f=doc.querySelector('.recheck-form'),btn=$('recheck-btn'),cd=$('cooldown');
 if(f&&btn&&cd&&btn.getAttribute('aria-disabled')!=='true'){var until=Number(f.dataset.cooldownUntil)||0;var left=Math.ceil((until-now)/1000);cd.textContent=left>0?'You can check again in '+left+' s.':'';}}
setInterval(tick,1000);
function enhance(){
 var f=doc.querySelector('.recheck-form');
 if(f&&!f.dataset.enhanced){f.dataset.enhanced='1';f.addEventListener('submit',function(ev){ev.preventDefault();var btn=$('recheck-btn');
  if(!btn||btn.getAttribute('aria-disabled')==='true')return;
  var until=Number(f.dataset.cooldownUntil)||0,now=Date.now()+skew;if(until>now){var cd=$('cooldown');if(cd)cd.textContent='You can check again in '+Math.ceil((until-now)/1000)+' s.';return;}
  var old=btn.textContent;btn.setAttribute('aria-disabled','true');btn.textContent='Checking…';announce('Checking your laptop… usually under 30 seconds.');
  fetch('/device/recheck',{method:'POST',headers:{Accept:'application/json','Content-Type':'application/x-www-form-urlencoded'},body:new URLSearchParams(new FormData(f)).toString()})
  .then(function(r){return r.json().then(function(b){return {status:r.status,body:b};});})
  .then(function(res){if(res.status===202){start();swap();}else{btn.removeAttribute('aria-disabled');btn.textContent=old;var m=res.body&&res.body.error&&res.body.error.message;announce(m||'We could not ask your laptop to check again. Try again in a moment.');if(res.status===410)onExpired();}})
  .catch(function(){btn.removeAttribute('aria-disabled');btn.textContent=old;announce('We could not reach Trustgate. Check your connection and try again.');});});}
 var bg=$('bg-form');
 if(bg&&!bg.dataset.enhanced){bg.dataset.enhanced='1';var sub=$('bg-submit');
  var upd=function(){var c=bg.querySelector('input[name=duration]:checked');if(c&&sub)sub.textContent=sub.dataset.verb+' '+c.dataset.label+' of access';};
  bg.addEventListener('change',upd);upd();
  bg.addEventListener('submit',function(){if(sub){sub.setAttribute('aria-disabled','true');}});}
}
enhance();focusSummary();start();
})();`;
