// New tasks appear without a reload: push.js hears the counts from the server and this page, told of
// more tasks than it knew, fetches its rows again; a short tone announces them unless the person
// turned it off.
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

  // 全选: ticks every arrival offered for 批量签收 (delegated: the rows are redrawn when new ones arrive).
  rows.addEventListener("change", (event) => {
    if (event.target.id !== "select-all-sign-for") return;
    for (const box of rows.querySelectorAll('input[name="task_id"][form="batch-sign-for"]')) box.checked = event.target.checked;
  });

  // What the page was drawn with: a task that arrived before the stream opened is new too.
  let known = Number(document.getElementById("todo-count").textContent);
  document.addEventListener("gongwen:inbox", async (event) => {
    const count = event.detail.tasks;
    const added = count - known;
    known = count;
    if (added <= 0) return;
    const fragment = await fetch(window.location.pathname + "?view=todo&fragment=1", {credentials: "same-origin"});
    if (fragment.ok) {
      rows.innerHTML = await fragment.text();
      if (window.gongwenSortable) window.gongwenSortable(rows);
    }
    arrival.textContent = `有 ${added} 件新的待办`;
    document.title = `（${count}）待办 · 公文系统`;
    tone();
  });
  document.addEventListener("gongwen:ended", (event) => {
    arrival.textContent = event.detail.text || "登录已失效，请重新登录";
  });
})();
