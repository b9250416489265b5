import { isJsonObject, ownField, ownString, parseJsonObject } from '../../../code/util/json';

describe('JSON readers', () => {
  it('accept objects only', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ a: 1 });
    for (const text of ['[1]', 'null', '"x"', '3', '{', '']) expect(parseJsonObject(text)).toBeUndefined();
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
  });

  it('read only fields the object has itself', () => {
    const obj = parseJsonObject('{"name":"x","count":2}')!;
    expect(ownString(obj, 'name')).toBe('x');
    expect(ownString(obj, 'count')).toBeUndefined();
    expect(ownField(obj, 'count')).toBe(2);
    expect(ownField(obj, 'constructor')).toBeUndefined();
    expect(ownField(obj, 'toString')).toBeUndefined();
  });
});
