// Dashboard progressive enhancements: copy buttons, confirmations, the quota countdown.
(function () {
  "use strict";

  function copyText(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) return;
    var text = target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied!";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
    } else {
      selectText(target);
    }
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () { copyText(button); });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var countdown = document.getElementById("reset-countdown");
  if (countdown) {
    var end = Date.now() + Number(countdown.getAttribute("data-reset-in")) * 1000;
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      countdown.textContent =
        pad(Math.floor(left / 3600)) + ":" + pad(Math.floor((left % 3600) / 60)) + ":" + pad(left % 60);
      if (left === 0) { clearInterval(timer); window.location.reload(); }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }
})();
