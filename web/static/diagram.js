// "Where is it now": draws the process with bpmn-js and marks done and waiting steps; behind a closed
// toggle (流程跟踪 on a document's page) only once it is opened, since a hidden box has no size to fit.
(async function () {
  const box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) return;
  const toggle = box.closest("details");
  if (toggle && !toggle.open) await new Promise((opened) => toggle.addEventListener("toggle", opened, {once: true}));
  const response = await fetch(box.dataset.progress, {credentials: "same-origin"});
  if (!response.ok) { box.textContent = "无法加载流程图"; return; }
  const progress = await response.json();
  const viewer = new window.BpmnJS({container: box});
  await viewer.importXML(progress.xml);
  const canvas = viewer.get("canvas");
  canvas.zoom("fit-viewport");
  progress.done.forEach((id) => canvas.addMarker(id, "step-done"));
  progress.current.forEach((id) => canvas.addMarker(id, "step-current"));
  // A whole process fitted into the page is too small to read: show the waiting step at its real size.
  const here = progress.current.map((id) => viewer.get("elementRegistry").get(id)).find(Boolean);
  if (here && canvas.zoom() < 0.7) {
    canvas.zoom(1);
    canvas.scrollToElement(here, {top: 120, bottom: 120, left: 300, right: 300});
  }
})();
