namespace EdgeProfile.Hub.Ui;

/// <summary>The UI's stylesheet and its one script, served from memory (no static-file folder to deploy).</summary>
internal static class UiAssets
{
    public const string Css = """
        :root { --fg:#0f172a; --muted:#64748b; --line:#e2e8f0; --accent:#2563eb; --bad:#dc2626; --warn:#b45309; --ok:#15803d; --bg:#f8fafc; }
        * { box-sizing: border-box; }
        body { margin:0; font: 14px/1.45 system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color:var(--fg); background:var(--bg); }
        header.top { display:flex; align-items:center; gap:18px; padding:8px 20px; background:#0f172a; color:#fff; flex-wrap:wrap; }
        header.top a { color:#cbd5e1; text-decoration:none; }
        header.top a.active, header.top a:hover { color:#fff; }
        header.top .brand { font-weight:700; color:#fff; margin-right:10px; }
        header.top nav { display:flex; gap:14px; flex-wrap:wrap; }
        header.top .me { margin-left:auto; display:flex; gap:10px; align-items:center; }
        header.top form { display:inline; margin:0; }
        header.top button { background:none; border:1px solid #475569; color:#e2e8f0; border-radius:4px; padding:2px 8px; cursor:pointer; }
        main { padding:18px 22px; max-width:1280px; }
        h1 { font-size:22px; margin:4px 0 14px; }
        h2 { font-size:17px; margin:22px 0 8px; }
        table { border-collapse:collapse; background:#fff; margin:6px 0 12px; }
        th, td { border:1px solid var(--line); padding:5px 9px; text-align:left; vertical-align:top; }
        th { background:#f1f5f9; font-weight:600; }
        td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
        .muted { color:var(--muted); }
        .error, .bad { color:var(--bad); }
        .warn { color:var(--warn); }
        .ok { color:var(--ok); }
        .box { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 14px; margin:10px 0; }
        .notice { background:#fffbeb; border:1px solid #fcd34d; border-radius:6px; padding:8px 12px; margin:8px 0; }
        .missing { background:#f1f5f9; border:1px dashed #94a3b8; border-radius:6px; padding:8px 12px; margin:8px 0; color:var(--muted); }
        .flash { background:#ecfdf5; border:1px solid #6ee7b7; border-radius:6px; padding:8px 12px; margin:8px 0; }
        .tag { display:inline-block; background:#e0e7ff; border-radius:10px; padding:1px 8px; margin:1px 3px 1px 0; }
        input[type=text], input[type=password], input[type=number], select, textarea { font:inherit; padding:4px 6px; border:1px solid #cbd5e1; border-radius:4px; background:#fff; }
        textarea { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:13px; width:100%; }
        button, .button { font:inherit; background:var(--accent); color:#fff; border:0; border-radius:4px; padding:5px 12px; cursor:pointer; text-decoration:none; display:inline-block; }
        button.secondary { background:#475569; }
        button.danger { background:var(--bad); }
        button:disabled { background:#94a3b8; cursor:not-allowed; }
        form.inline { display:inline; }
        .row { display:flex; gap:16px; flex-wrap:wrap; align-items:flex-start; }
        .grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:14px; }
        label { display:inline-block; margin:4px 10px 4px 0; }
        pre { background:#0f172a; color:#e2e8f0; padding:10px; border-radius:6px; overflow:auto; max-height:420px; }
        .diff .add { color:#15803d; } .diff .del { color:#dc2626; }
        svg.chart text { fill: var(--fg); }
        .editor { display:flex; gap:0; border:1px solid #cbd5e1; border-radius:4px; background:#fff; }
        .editor .gutter { margin:0; font: 13px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; color:var(--muted); text-align:right; padding:4px 6px; user-select:none; white-space:pre; background:#f1f5f9; overflow:hidden; border-radius:0; max-height:none; }
        .editor .gutter .err { color:#fff; background:var(--bad); }
        .editor textarea { border:0; margin:0; padding:4px 6px; font: 13px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; resize:vertical; min-height:300px; }
        .login { max-width:360px; margin:60px auto; }
        .login label { display:block; margin:8px 0 2px; }
        .login input { width:100%; }
        """;

    public const string Js = """
        // EdgeProfile operator UI: validation as you type in the rule editor, and confirmations for destructive actions.
        (function () {
          document.addEventListener('submit', function (e) {
            var f = e.target; var q = e.submitter && e.submitter.getAttribute('data-confirm');
            if (q && !window.confirm(q)) { e.preventDefault(); }
          });
          var editor = document.getElementById('rule-text');
          if (!editor) return;
          var out = document.getElementById('rule-errors');
          var gutter = document.getElementById('rule-gutter');
          var timer = null, seq = 0;
          function lines(bad) {
            var n = editor.value.split('\n').length, html = [];
            for (var i = 1; i <= n; i++) html.push(bad[i] ? '<span class="err">' + i + '</span>' : String(i));
            gutter.innerHTML = html.join('\n');
          }
          function show(result) {
            var bad = {};
            out.innerHTML = '';
            if (result.valid) {
              out.className = 'ok'; out.setAttribute('data-state', 'valid');
              out.textContent = out.getAttribute('data-ok').replace('{n}', (result.rules || []).length);
            } else {
              out.className = 'error'; out.setAttribute('data-state', 'invalid');
              var ul = document.createElement('ul');
              (result.errors || []).forEach(function (err) {
                bad[err.line] = true;
                var li = document.createElement('li'); li.className = 'rule-error'; li.setAttribute('data-line', err.line);
                li.textContent = out.getAttribute('data-line') + ' ' + err.line + ':' + err.column + ' — ' + err.message;
                ul.appendChild(li);
              });
              if (!result.errors && result.error) { var li = document.createElement('li'); li.textContent = result.error; ul.appendChild(li); }
              out.appendChild(ul);
            }
            lines(bad);
          }
          function validate() {
            var mine = ++seq;
            fetch('/ui/rules/validate', { method: 'POST', body: editor.value, headers: { 'Content-Type': 'text/plain', 'X-EdgeProfile-UI': '1' }, credentials: 'same-origin' })
              .then(function (r) { return r.json(); })
              .then(function (j) { if (mine === seq) show(j); })
              .catch(function () { if (mine === seq) { out.className = 'error'; out.textContent = 'validation unavailable'; } });
          }
          editor.addEventListener('input', function () { lines({}); clearTimeout(timer); timer = setTimeout(validate, 250); });
          editor.addEventListener('scroll', function () { gutter.scrollTop = editor.scrollTop; });
          lines({}); validate();
        })();
        """;
}
