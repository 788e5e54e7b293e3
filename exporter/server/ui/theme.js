// Runs before first paint (classic script in <head>): apply the theme remembered by the toggle, if
// any; otherwise the CSS follows prefers-color-scheme.
(function () {
  // Parts of the page that only scripts fill (the board, filters, history) hide without them.
  document.documentElement.classList.add('js');
  try {
    var t = localStorage.getItem('vigil-theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch (e) { /* storage disabled: follow the system */ }
})();
