// The process modeler: edit with bpmn-js, save through the same deploy checks; a refusal highlights its element.
(async function () {
  const box = document.getElementById("modeler");
  const result = document.getElementById("deploy-result");
  const modeler = new window.BpmnJS({container: box});
  const source = await fetch(box.dataset.source, {credentials: "same-origin"});
  const {warnings} = await modeler.importXML(await source.text());
  // SpiffWorkflow names a multi-instance task's collections by variable name; bpmn-js reads that
  // name as the id of an element, finds none and would drop it on save. Keep it as written.
  for (const warning of warnings) {
    if (/loopData(Input|Output)Ref$/.test(warning.property || "")) {
      warning.element.set(warning.property, {id: warning.value});
    }
  }
  // Real size, from the top left, clear of the palette: the elements stay large enough to edit.
  const canvas = modeler.get("canvas");
  canvas.zoom(1);
  const box0 = canvas.viewbox();
  canvas.viewbox({x: -100, y: 0, width: box0.width, height: box0.height});
  let marked = null;

  document.getElementById("save").addEventListener("click", async () => {
    if (marked) { canvas.removeMarker(marked, "deploy-error"); marked = null; }
    const {xml} = await modeler.saveXML({format: true});
    const response = await fetch(box.dataset.deploy, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: JSON.stringify({filename: box.dataset.filename, xml}),
    });
    const answer = await response.json();
    if (answer.ok) {
      result.textContent = answer.deployed.map((d) => d.message).join("；");
    } else {
      result.textContent = `部署失败：${answer.message}`;
      if (answer.element && modeler.get("elementRegistry").get(answer.element)) {
        marked = answer.element;
        canvas.addMarker(marked, "deploy-error");
      }
    }
  });
})();
