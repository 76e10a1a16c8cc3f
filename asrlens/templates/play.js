// Click a word of an aligned transcript (one with data-start, the recognizer's start time of
// the word in seconds, from the start of the utterance) to play that file's audio from the
// word's start. A linked recording that holds the utterance as a span starts the span at the
// article's data-audio-offset (an embedded span starts at 0).
document.addEventListener("click", function (event) {
  var word = event.target.closest ? event.target.closest("[data-start]") : null;
  if (!word) return;
  var article = word.closest("article");
  var audio = article ? article.querySelector("audio") : null;
  if (!audio) return;
  var offset = parseFloat(article.dataset.audioOffset || "0");
  audio.currentTime = offset + parseFloat(word.dataset.start);
  var playing = audio.play();
  if (playing && playing.catch) playing.catch(function () {});  // blocked autoplay: the position is set
});
