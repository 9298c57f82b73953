// The report form's progressive enhancement: the phone's location on a small map, draggable.
// Without this script (or without permission) the typed address path works as it is.
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var status = document.getElementById("geo-status");
  var mapBox = document.getElementById("map");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  if (!button || !status || !mapBox || !lat || !lon) return;
  var map = null;
  var marker = null;

  function say(name) {
    status.textContent = status.getAttribute("data-" + name) || "";
  }

  function place(latitude, longitude) {
    lat.value = latitude.toFixed(6);
    lon.value = longitude.toFixed(6);
  }

  function show(latitude, longitude) {
    place(latitude, longitude);
    if (!window.L) return; // the map is a help, not a need: the position is in the form
    mapBox.hidden = false;
    if (map === null) {
      window.L.Icon.Default.imagePath = "/report/static/vendor/leaflet/images/";
      map = window.L.map(mapBox, { attributionControl: false }).setView([latitude, longitude], 15);
      landmarks(map);
      marker = window.L.marker([latitude, longitude], { draggable: true, autoPan: true }).addTo(map);
      marker.on("dragend", function () {
        var at = marker.getLatLng();
        place(at.lat, at.lng);
      });
    } else {
      map.setView([latitude, longitude], 15);
      marker.setLatLng([latitude, longitude]);
    }
  }

  // No map tiles are fetched (nothing leaves the origin): the known landmarks give bearings.
  function landmarks(target) {
    var places = [];
    try {
      places = JSON.parse(mapBox.getAttribute("data-places") || "[]");
    } catch (e) {
      places = [];
    }
    places.forEach(function (p) {
      window.L.circleMarker([p[0], p[1]], { radius: 4, weight: 1, color: "#555" })
        .bindTooltip(p[2], { permanent: true, direction: "right", className: "landmark" })
        .addTo(target);
    });
  }

  function denied() {
    say("denied");
    var address = document.getElementById("address");
    if (address) address.focus();
  }

  if (!("geolocation" in navigator)) {
    say("denied");
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    say("locating");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        show(position.coords.latitude, position.coords.longitude);
        say("set");
      },
      denied,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });
  if (lat.value && lon.value) show(parseFloat(lat.value), parseFloat(lon.value));
})();
