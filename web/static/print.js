// The print pages' 打印 button (no inline script: the pages' Content-Security-Policy allows none).
document.getElementById("print").addEventListener("click", () => window.print());
