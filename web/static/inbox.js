// New tasks appear without a reload; a short tone announces them unless the person turned it off.
(function () {
  const rows = document.getElementById("rows");
  const toggle = document.getElementById("sound-toggle");
  const arrival = document.getElementById("arrival");
  if (!rows || !toggle) return;
  const KEY = "gongwen.sound";
  let soundOn = localStorage.getItem(KEY) !== "off";
  const show = () => { toggle.textContent = soundOn ? "提示音：开" : "提示音：关"; toggle.setAttribute("aria-pressed", soundOn); };
  show();
  toggle.addEventListener("click", () => { soundOn = !soundOn; localStorage.setItem(KEY, soundOn ? "on" : "off"); show(); });

  function tone() {
    if (!soundOn) return;
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const beep = audio.createOscillator();
      beep.frequency.value = 880;
      beep.connect(audio.destination);
      beep.start();
      beep.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device: the visual notice is enough */ }
  }

  let known = null;
  async function poll() {
    try {
      const response = await fetch("/inbox/count", {credentials: "same-origin"});
      if (!response.ok) return;
      const {count} = await response.json();
      if (known !== null && count > known) {
        const fragment = await fetch(window.location.pathname + "?view=todo&fragment=1", {credentials: "same-origin"});
        if (fragment.ok) rows.innerHTML = await fragment.text();
        arrival.textContent = `有 ${count - known} 件新的待办`;
        document.getElementById("todo-count").textContent = count;
        document.title = `（${count}）待办 · 公文系统`;
        tone();
      }
      known = count;
    } finally {
      setTimeout(poll, 5000);
    }
  }
  poll();
})();
