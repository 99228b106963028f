// The signature pad (签发, 批示): shows the pad the page keeps hidden without JS, lets a finger, pen or mouse
// draw on the canvas (pointer events), and puts the drawing into the hidden field as a PNG data URL on every
// stroke; 清除签名 empties both. The server checks the PNG again (handlers/opinions/handwriting.py).
for (const pad of document.querySelectorAll(".signature-pad")) {
  const canvas = pad.querySelector("canvas");
  const field = pad.querySelector("input[type=hidden]");
  const context = canvas.getContext("2d");
  pad.hidden = false;
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  canvas.width = Math.round(canvas.clientWidth * ratio);
  canvas.height = Math.round(canvas.clientHeight * ratio);
  context.scale(ratio, ratio);
  context.lineWidth = 2.5;
  context.lineCap = context.lineJoin = "round";
  context.strokeStyle = "#111";
  let last = null;

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    context.beginPath();
    context.arc(last[0], last[1], context.lineWidth / 2, 0, 2 * Math.PI);
    context.fill();
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
    event.preventDefault();
  });
  const end = () => {
    if (!last) return;
    last = null;
    field.value = canvas.toDataURL("image/png");
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  pad.querySelector(".signature-clear").addEventListener("click", () => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    field.value = "";
  });
}
