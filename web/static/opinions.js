// 常用意见 on a task page: picking one fills the opinion box it belongs to (data-fills); 存为常用意见 saves what
// the box holds to one's own list without leaving the page and offers it in every list of the page at once.
for (const select of document.querySelectorAll("select[data-fills]")) {
  select.addEventListener("change", () => {
    const box = document.getElementById(select.dataset.fills);
    if (select.value) {
      box.value = select.value;
      box.focus();
    }
  });
}

for (const button of document.querySelectorAll("button.save-opinion")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const form = button.closest("form");
    const body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("text", document.getElementById(button.dataset.from).value);
    const answer = await fetch(button.dataset.url, {
      method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    const said = await answer.json();
    let note = button.parentElement.querySelector(".save-note");
    if (!note) {
      note = document.createElement("span");
      note.className = "save-note";
      note.setAttribute("role", "status");
      button.parentElement.append(note);
    }
    note.textContent = said.message;
    if (answer.ok) {
      for (const list of document.querySelectorAll("select[data-fills]")) list.add(new Option(said.text, said.text));
    }
  });
}
