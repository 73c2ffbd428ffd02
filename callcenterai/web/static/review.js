// The review queue by keyboard: Enter or y confirms the first ticket's suggestion,
// 1..n picks that category. Keys typed into a form field are left alone.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select")) return;
  if (event.key === "Enter" && target.tagName === "BUTTON") return; // a focused button is pressed as usual
  const form = document.querySelector(".queue .ticket form");
  if (!form) return;
  const key = event.key === "Enter" ? "y" : event.key.toLowerCase();
  const button = form.querySelector('button[data-key="' + CSS.escape(key) + '"]');
  if (!button) return;
  event.preventDefault();
  button.click();
});
// After a decision, move the focus to the next ticket so the keys carry on there.
document.addEventListener("htmx:afterSwap", function (event) {
  const next = document.querySelector(".queue .ticket form button.confirm");
  if (next && event.target.closest && event.target.closest(".queue")) next.focus();
});
