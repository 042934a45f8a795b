/* newsgraph: entity suggestions while typing in the search box.
 *
 * Progressive enhancement: without this script the box is a plain search
 * field and the form submits as usual. With it, the field becomes an ARIA 1.2
 * combobox (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/) whose listbox
 * is filled from the JSON endpoint in data-suggest-url:
 *   ArrowDown / ArrowUp  move through the suggestions (aria-activedescendant)
 *   Enter                searches for the highlighted entity (or the text typed)
 *   Escape               closes the list (a second Escape clears the field)
 * No dependencies, no network access other than our own endpoint.
 */
(function () {
  "use strict";

  var MIN_CHARS = 2;
  var DELAY_MS = 150;

  function enhance(input) {
    var url = input.getAttribute("data-suggest-url");
    var form = input.form;
    if (!url || !form || !window.fetch) {
      return;
    }
    var listId = input.id + "-suggestions";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested names");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    form.appendChild(list);
    form.appendChild(status);
    form.classList.add("has-suggestions");

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var lastQuery = null;

    function option(i) {
      return document.getElementById(listId + "-" + i);
    }

    function setActive(i) {
      if (active >= 0 && option(active)) {
        option(active).setAttribute("aria-selected", "false");
      }
      active = i;
      if (active >= 0 && option(active)) {
        var el = option(active);
        el.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", el.id);
        if (el.scrollIntoView) {
          el.scrollIntoView({ block: "nearest" });
        }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function open() {
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function choose(i) {
      var item = items[i];
      if (!item) {
        return;
      }
      input.value = item.name;
      close();
      form.submit();
    }

    function render(results) {
      items = results;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.textContent = "";
      results.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "suggestion-name";
        name.textContent = item.name;
        var meta = document.createElement("span");
        meta.className = "suggestion-meta";
        meta.textContent =
          item.type_label + " · " + item.stories + (item.stories === 1 ? " story" : " stories");
        li.appendChild(name);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(meta);
        // mousedown, not click: the field keeps focus until we are done.
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(li);
      });
      if (results.length) {
        status.textContent =
          results.length + (results.length === 1 ? " suggestion" : " suggestions") +
          ", use the up and down arrows to choose.";
        open();
      } else {
        status.textContent = "";
        close();
      }
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      if (q.length < MIN_CHARS) {
        lastQuery = null;
        render([]);
        return;
      }
      if (q === lastQuery) {
        open();
        return;
      }
      lastQuery = q;
      if (controller) {
        controller.abort();
      }
      controller = window.AbortController ? new AbortController() : null;
      // The page's entity-type filter narrows the suggestions too.
      var kind = document.querySelector("select[name=type]");
      var typed = kind && kind.value ? "&type=" + encodeURIComponent(kind.value) : "";
      fetch(url + "?q=" + encodeURIComponent(q) + typed, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (input.value.trim() === q && document.activeElement === input) {
            render(data.results || []);
          }
        })
        .catch(function () {
          /* aborted or offline: the plain search still works */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden && items.length > 0;
      switch (event.key) {
        case "ArrowDown":
          if (!expanded) {
            if (items.length) {
              open();
            } else {
              fetchSuggestions();
            }
            event.preventDefault();
            return;
          }
          event.preventDefault();
          setActive(active + 1 >= items.length ? 0 : active + 1);
          return;
        case "ArrowUp":
          if (!expanded) {
            return;
          }
          event.preventDefault();
          setActive(active <= 0 ? items.length - 1 : active - 1);
          return;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          return; // otherwise the form submits what was typed
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          }
          return;
        case "Tab":
          close();
          return;
        default:
          return;
      }
    });

    input.addEventListener("blur", function () {
      window.setTimeout(close, 100);
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-suggest-url]");
    Array.prototype.forEach.call(inputs, enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
