// The credential of this browser tab, for the pages the API serves (/docs, /ui/flows): asked
// for in the page's form, kept in sessionStorage only (gone with the tab), sent as a Bearer
// header by the page itself. The pages are public shells; every data call carries this.
"use strict";
const ticketflowCredential = (() => {
  const STORE = "ticketflow-credential";
  const get = () => sessionStorage.getItem(STORE) || "";

  // Wires the form of api/pages.py's credential_form(); onChange runs after each change.
  function attach(form, onChange) {
    const state = form.querySelector(".key-state");
    const show = () => { state.textContent = get() ? "set for this tab" : "none set"; };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = form.credential.value.trim();
      if (value) sessionStorage.setItem(STORE, value); else sessionStorage.removeItem(STORE);
      form.credential.value = "";
      show();
      onChange();
    });
    form.querySelector(".key-forget").addEventListener("click", () => {
      sessionStorage.removeItem(STORE);
      show();
      onChange();
    });
    show();
  }

  const headers = () => (get() ? {Authorization: "Bearer " + get()} : {});
  return {get, attach, headers};
})();
