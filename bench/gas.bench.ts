// Gas used by the TicketBroker's main operations, measured on a fresh anvil with the dev protocol.
// Prints a Markdown table. Run: npm run bench:gas
import {
  Wallet,
  concat,
  getBytes,
  hexlify,
  parseEther,
  randomBytes,
  solidityPackedKeccak256,
  toBeHex,
  toBigInt,
  toQuantity,
  zeroPadValue,
  type ContractTransactionResponse,
} from 'ethers';
import {
  deployProtocol,
  loadArtifact,
  roundsManagerAt,
  ticketBrokerAt,
  type TicketBrokerContract,
} from '#app/chain';
import { ANVIL_PRIVATE_KEYS, startAnvil, type AnvilInstance } from '#app/testing';

const MAX_WIN_PROB = (1n << 256n) - 1n;
const BATCH_SIZES = [1, 5, 20];
// Batches must not be sized by eth_estimateGas: failed sub-calls are swallowed, so the estimate
// can starve the last ticket. A generous explicit limit; gasUsed is what is reported.
const BATCH_GAS_LIMIT = 15_000_000;

interface Row {
  operation: string;
  gas: bigint;
  tickets?: number;
}

async function main(): Promise<void> {
  const anvil = await startAnvil();
  try {
    const rows = await measure(anvil);
    const { version, settings } = loadArtifact('TicketBroker').compiler;
    console.log(`TicketBroker gas (solc ${version}, ${JSON.stringify(settings)}, anvil)\n`);
    console.log('| operation | gas used | gas per ticket |');
    console.log('| --- | ---: | ---: |');
    for (const r of rows) {
      const perTicket = r.tickets ? (r.gas / BigInt(r.tickets)).toLocaleString('en-US') : '';
      console.log(`| ${r.operation} | ${r.gas.toLocaleString('en-US')} | ${perTicket} |`);
    }
    console.log(
      '\nRedemptions pay a recipient that already has fees and a sender whose deposit stays non-zero ' +
        '(the steady state); each ticket is a distinct winner (winProb = 2^256-1).',
    );
  } finally {
    await anvil.stop();
  }
}

async function measure(anvil: AnvilInstance): Promise<Row[]> {
  const { provider } = anvil;
  const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], provider);
  const recipient = new Wallet(ANVIL_PRIVATE_KEYS[9]).address;
  // A 1000-block round holds every tx below, so no ticket expires or meets an uninitialized round.
  const { addresses } = await deployProtocol(owner, { roundLength: 1000n, recipients: [recipient] });
  const rounds = roundsManagerAt(addresses.roundsManager, provider);
  const round = await rounds.currentRound();
  const auxData = concat([zeroPadValue(toBeHex(round), 32), await rounds.blockHashForRound(round)]);

  const newSender = async (): Promise<{ wallet: Wallet; broker: TicketBrokerContract }> => {
    const wallet = new Wallet(hexlify(randomBytes(32)), provider);
    await provider.send('anvil_setBalance', [wallet.address, toQuantity(parseEther('1000'))]);
    return { wallet, broker: ticketBrokerAt(addresses.ticketBroker, wallet) };
  };
  const relayer = ticketBrokerAt(addresses.ticketBroker, owner);
  let nonce = 0n;
  const ticket = async (sender: Wallet, faceValue: bigint) => {
    const recipientRand = toBigInt(randomBytes(32));
    const t = {
      recipient,
      sender: sender.address,
      faceValue,
      winProb: MAX_WIN_PROB,
      senderNonce: ++nonce,
      recipientRandHash: solidityPackedKeccak256(['uint256'], [recipientRand]),
      auxData,
    };
    const hash = solidityPackedKeccak256(
      ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
      [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.auxData],
    );
    return { t, sig: await sender.signMessage(getBytes(hash)), recipientRand };
  };

  const rows: Row[] = [];
  const record = async (operation: string, tx: Promise<ContractTransactionResponse>, tickets?: number) => {
    const receipt = await (await tx).wait();
    const redeemed = receipt!.logs.filter(
      (log) => relayer.interface.parseLog(log)?.name === 'WinningTicketRedeemed',
    );
    if (tickets !== undefined && redeemed.length !== tickets) {
      throw new Error(`${operation}: ${redeemed.length} of ${tickets} tickets redeemed`);
    }
    rows.push({ operation, gas: receipt!.gasUsed, tickets });
  };

  const funder = await newSender();
  await record('fundDeposit (first deposit)', funder.broker.fundDeposit({ value: parseEther('1') }));
  await record('fundReserve (first reserve)', funder.broker.fundReserve({ value: parseEther('1') }));

  // Deposit large enough for every ticket below; one warm-up redemption credits the recipient.
  const payer = await newSender();
  await (await payer.broker.fundDeposit({ value: parseEther('100') })).wait();
  const warmUp = await ticket(payer.wallet, 1n);
  await (await relayer.redeemWinningTicket(warmUp.t, warmUp.sig, warmUp.recipientRand)).wait();

  const single = await ticket(payer.wallet, parseEther('0.01'));
  await record(
    'redeemWinningTicket, paid from deposit',
    relayer.redeemWinningTicket(single.t, single.sig, single.recipientRand),
    1,
  );

  const short = await newSender();
  await (
    await short.broker.fundDepositAndReserve(parseEther('0.5'), parseEther('2'), { value: parseEther('2.5') })
  ).wait();
  const topped = await ticket(short.wallet, parseEther('1'));
  await record(
    'redeemWinningTicket, paid from deposit + reserve',
    relayer.redeemWinningTicket(topped.t, topped.sig, topped.recipientRand),
    1,
  );

  for (const size of BATCH_SIZES) {
    const tickets = [];
    for (let i = 0; i < size; i++) tickets.push(await ticket(payer.wallet, parseEther('0.01')));
    await record(
      `batchRedeemWinningTickets, ${size} winner${size > 1 ? 's' : ''}`,
      relayer.batchRedeemWinningTickets(
        tickets.map((x) => x.t),
        tickets.map((x) => x.sig),
        tickets.map((x) => x.recipientRand),
        { gasLimit: BATCH_GAS_LIMIT },
      ),
      size,
    );
  }
  return rows;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
