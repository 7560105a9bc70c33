import { test } from 'node:test';
import assert from 'node:assert/strict';
import { miQuote, parseMiLine } from './mi.js';

test('MI: result, async, stream and prompt records', () => {
  assert.deepEqual(parseMiLine('(gdb) '), { type: 'prompt' });
  assert.deepEqual(parseMiLine('12^done'), { type: 'result', token: 12, cls: 'done', results: {} });
  assert.deepEqual(parseMiLine('3^error,msg="No symbol \\"x\\" in current context."'), { type: 'result', token: 3, cls: 'error', results: { msg: 'No symbol "x" in current context.' } });
  assert.deepEqual(parseMiLine('~"Current event: 5\\n"'), { type: 'console', text: 'Current event: 5\n' });
  assert.deepEqual(parseMiLine('&"caf\\303\\251\\t"'), { type: 'log', text: 'café\t' });
  const stopped = parseMiLine(
    '*stopped,reason="watchpoint-trigger",wpt={number="2",exp="-location accounts[0].balance"},value={old="13",new="106"},frame={addr="0x5555555551aa",func="record_transfer",args=[{name="a",value="0x555555558060 <accounts>"},{name="n",value="8"}],file="bank.c",line="29"},thread-id="1",stopped-threads="all"',
  );
  assert.equal(stopped.type, 'exec');
  assert.deepEqual((stopped as { results: unknown }).results, {
    reason: 'watchpoint-trigger',
    wpt: { number: '2', exp: '-location accounts[0].balance' },
    value: { old: '13', new: '106' },
    frame: { addr: '0x5555555551aa', func: 'record_transfer', args: [{ name: 'a', value: '0x555555558060 <accounts>' }, { name: 'n', value: '8' }], file: 'bank.c', line: '29' },
    'thread-id': '1',
    'stopped-threads': 'all',
  });
  const frames = parseMiLine('^done,stack=[frame={level="0",func="a"},frame={level="1",func="b"}]');
  assert.deepEqual((frames as { results: unknown }).results, { stack: [{ level: '0', func: 'a' }, { level: '1', func: 'b' }] });
  assert.deepEqual((parseMiLine('^done,x=[],y={},z=["1","2"]') as { results: unknown }).results, { x: [], y: {}, z: ['1', '2'] });
  assert.equal(parseMiLine('garbage').type, 'unknown');
  assert.throws(() => parseMiLine('^done,x="unterminated'), /unterminated/);
  assert.equal(miQuote('a "b"\\c'), '"a \\"b\\"\\\\c"');
});
