import { describe, expect, it } from 'vitest';
import { formOf } from '../bench/real.js';

// bench real cannot score real recordings (no labels): it reports the shape of each answer.
describe('the shape of a multiple-choice answer on a real recording', () => {
  const options = ['brass', 'piano', 'strings', 'organ'];

  it('is exact when the letter and the label are the same option, as mufun eval reads labels', () => {
    expect(formOf('B. piano', options)).toBe('exact');
    expect(formOf('B. Piano.', options)).toBe('exact');
  });

  it('is exact as an option\'s text alone, unoffered as another of the task\'s labels alone', () => {
    expect(formOf('piano', options, ['brass', 'piano', 'strings', 'organ', 'guitar'])).toBe('exact');
    expect(formOf('Piano.', options)).toBe('exact');
    expect(formOf('guitar', options, ['brass', 'piano', 'strings', 'organ', 'guitar'])).toBe('unoffered');
    expect(formOf('a banjo', options, ['brass', 'piano', 'strings', 'organ', 'guitar'])).toBe('malformed');
  });

  it('reads an answer given through the key by what follows "so"', () => {
    const modes = ['minor', 'major'];
    expect(formOf('In D major, so major.', modes, modes)).toBe('exact');
    expect(formOf('In D major, so B. major.', modes, modes)).toBe('exact');
    expect(formOf('In D major, so A. major.', modes, modes)).toBe('mismatch');
    expect(formOf('In D major, so dorian.', modes, modes)).toBe('malformed');
  });

  it('is exact label first too, "piano (B)"', () => {
    expect(formOf('piano (B)', options)).toBe('exact');
    expect(formOf('piano (A)', options)).toBe('mismatch');
    expect(formOf('guitar (A)', options)).toBe('unoffered');
    expect(formOf('piano (E)', options)).toBe('malformed');
  });

  it('is a mismatch when the letter is one option and the label another', () => {
    expect(formOf('A. piano', options)).toBe('mismatch');
    expect(formOf('C. Piano', options)).toBe('mismatch');
  });

  it('is unoffered when the label is none of the options', () => {
    expect(formOf('A. guitar', options)).toBe('unoffered');
  });

  it('is malformed without a trained shape or with a letter past the options', () => {
    expect(formOf('piano please', options)).toBe('malformed');
    expect(formOf('E. piano', options)).toBe('malformed');
    expect(formOf('Pianoianoiano. piano', options)).toBe('malformed');
  });
});
