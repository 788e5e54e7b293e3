// Runs before first paint (classic script in <head>): apply the theme remembered by the toggle, if
// any; otherwise the CSS follows prefers-color-scheme.
(function () {
  try {
    var t = localStorage.getItem('vigil-theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch (e) { /* storage disabled: follow the system */ }
})();
