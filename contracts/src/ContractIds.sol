// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Controller registry ids: keccak256 of the contract's registry name, as on Livepeer's mainnet.
bytes32 constant TICKET_BROKER_ID = keccak256("TicketBroker");
bytes32 constant JOBS_MANAGER_ID = keccak256("JobsManager");
bytes32 constant BONDING_MANAGER_ID = keccak256("BondingManager");
bytes32 constant MINTER_ID = keccak256("Minter");
bytes32 constant ROUNDS_MANAGER_ID = keccak256("RoundsManager");
