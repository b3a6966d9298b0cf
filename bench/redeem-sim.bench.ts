/**
 * What judging one winning ticket costs the node: anvil's CPU per eth_estimateGas (what the
 * Redeemer ran per ticket before), per eth_call with a gas limit (what it runs now) and per
 * eth_simulateV1, for a deposit-paid and a reserve-paid ticket, and the gas each path used when
 * sent. Prints figures (`BENCH_SIM_TICKETS` tickets per path, default 200); Linux only (/proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseEther, type Wallet } from 'ethers';
import { RedemptionCalls } from '#app/chain';
import { toWinningTicketRow } from '#app/queue';
import { startRedeemerChain } from '../test/integration/redeemer/redeemer-fixture.js';
import { clockTicks, ownCpuSeconds, procStatFields } from './proc-stat.js';

const TICKETS = Number(process.env.BENCH_SIM_TICKETS ?? '200');
/** CPU ms (user + system) so far of the anvil this process started. */
function anvilCpuMs(): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const fields = procStatFields(pid);
      if (Number(fields[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil')) continue;
      return ownCpuSeconds(fields) * 1000;
    } catch {
      // exited meanwhile
    }
  }
  throw new Error('no anvil child process');
}

async function main(): Promise<void> {
  const fx = await startRedeemerChain();
  try {
    const { ticketBroker, bondingManager } = fx.protocol.addresses;
    const calls = new RedemptionCalls(fx.provider, ticketBroker, bondingManager);
    const from = fx.recipient.address;
    const depositPaid = await fx.newSender(parseEther('100'), parseEther('1'));
    const reservePaid = await fx.newSender(0n, parseEther('100'));
    await fx.nextRound();
    const calldata = async (sender: Wallet) => {
      const out: string[] = [];
      for (let i = 0; i < TICKETS; i++) {
        out.push(calls.encodeRedeem(toWinningTicketRow(await fx.ticket(sender, parseEther('0.001')))));
      }
      return out;
    };
    const paths = { deposit: await calldata(depositPaid), reserve: await calldata(reservePaid) };

    const perCall = async (list: string[], call: (data: string) => Promise<unknown>) => {
      const cpu0 = anvilCpuMs();
      for (const data of list) await call(data);
      return (anvilCpuMs() - cpu0) / list.length;
    };
    console.log(
      `anvil CPU per call, ${TICKETS} redeemWinningTicket calls per path (tick ${1000 / clockTicks()} ms)\n`,
    );
    console.log('| path | eth_estimateGas | eth_call (gas limit) | eth_simulateV1 | gas used when sent |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [path, list] of Object.entries(paths)) {
      const estimate = await perCall(list, (data) =>
        fx.provider.estimateGas({ from, to: ticketBroker, data }),
      );
      const call = await perCall(list, (data) =>
        fx.provider.call({ from, to: ticketBroker, data, gasLimit: 1_000_000n }),
      );
      const simulate = await perCall(list, (data) =>
        fx.provider.send('eth_simulateV1', [
          { blockStateCalls: [{ calls: [{ from, to: ticketBroker, data }] }] },
          'latest',
        ]),
      );
      const tx = await fx.recipient.sendTransaction({
        to: ticketBroker,
        data: list[0],
        gasLimit: 1_000_000n,
      });
      const gasUsed = (await tx.wait())!.gasUsed;
      const ms = (x: number) => `${x.toFixed(2)} ms`;
      console.log(`| ${path}-paid | ${ms(estimate)} | ${ms(call)} | ${ms(simulate)} | ${gasUsed} |`);
    }
  } finally {
    await fx.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
