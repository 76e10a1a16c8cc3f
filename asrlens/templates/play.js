// Click a word of an aligned transcript (one with data-start, the recognizer's start time of
// the word in seconds) to play that file's audio from the word's start.
document.addEventListener("click", function (event) {
  var word = event.target.closest ? event.target.closest("[data-start]") : null;
  if (!word) return;
  var article = word.closest("article");
  var audio = article ? article.querySelector("audio") : null;
  if (!audio) return;
  audio.currentTime = parseFloat(word.dataset.start);
  var playing = audio.play();
  if (playing && playing.catch) playing.catch(function () {});  // blocked autoplay: the position is set
});
