//! Structure-aware companion of `msg_decode`: builds a `Msg` value from the fuzz input (any
//! variant, field values at and past the schema's limits) and checks the encoder:
//!
//! - if `encode` succeeds, the bytes fit a mailbox page and decode to the same value;
//! - if it fails, it fails exactly as `validate` does (a valid message always encodes).
//!
//! Byte-level mutation rarely keeps a TLV message's nested length fields consistent, so this
//! target reaches the corner cases of the schemas (empty arrays, absent optional fields,
//! error responses without data) that `msg_decode` finds only slowly.
#![no_main]

use fbnic_hw::msg::*;
use fbnic_hw::tlv::{DATA_CHUNK_MAX, MSG_MAX_LEN};
use fbnic_hw::{Fec, FwVersion, LinkSpeed, MacAddr};
use libfuzzer_sys::fuzz_target;

/// Reads values from the fuzz input; zeros once it runs out.
struct Gen<'a>(&'a [u8]);

impl Gen<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// A small number, mostly, with the extremes reachable.
    fn int(&mut self) -> u32 {
        match self.u8() % 4 {
            0 => 0,
            1 => u32::from(self.u8()),
            2 => u32::MAX - u32::from(self.u8()),
            _ => self.u32(),
        }
    }

    /// A count in 0..=max+2 (a little past the limit, to hit the encoder's checks).
    fn count(&mut self, max: usize) -> usize {
        usize::from(self.u16()) % (max + 3)
    }

    /// A length for data: anything up to a little past a chunk.
    fn data_len(&mut self) -> usize {
        match self.u8() % 4 {
            0 => 0,
            1 => DATA_CHUNK_MAX + usize::from(self.u8() % 3),
            _ => usize::from(self.u16()) % (DATA_CHUNK_MAX + 3),
        }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let fill = self.u8();
        (0..n).map(|i| fill.wrapping_add(i as u8)).collect()
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        self.bool().then(|| f(self))
    }

    /// A string up to a little past `max` bytes with its NUL: ASCII, sometimes a multi-byte
    /// character or an inner NUL.
    fn string(&mut self, max: usize) -> String {
        let n = self.count(max);
        let mut s = String::with_capacity(n);
        while s.len() < n {
            match self.u8() {
                0 => s.push('\0'),
                1 => s.push('é'),
                b => s.push(char::from(b' ' + b % 95)),
            }
        }
        s
    }

    fn mac(&mut self) -> MacAddr {
        MacAddr([
            self.u8(),
            self.u8(),
            self.u8(),
            self.u8(),
            self.u8(),
            self.u8(),
        ])
    }

    fn macs(&mut self, max: usize) -> Vec<MacAddr> {
        let n = self.count(max);
        (0..n).map(|_| self.mac()).collect()
    }

    fn test_attrs(&mut self) -> TestAttrs {
        TestAttrs {
            u64: self.opt(Self::u64),
            s64: self.opt(|g| g.u64() as i64),
            u32: self.opt(Self::u32),
            s32: self.opt(|g| g.u32() as i32),
            u16: self.opt(Self::u16),
            s16: self.opt(|g| g.u16() as i16),
            mac: self.opt(Self::mac),
            flag_true: self.bool(),
            flag_false: self.bool(),
            string: self.opt(|g| g.string(TEST_STRING_MAX)),
            mac_array: self.macs(TEST_MACS_MAX),
        }
    }

    fn log_entry(&mut self) -> LogEntry {
        LogEntry {
            msec: self.int(),
            index: self.u64(),
            msg: self.string(LOG_MSG_MAX),
        }
    }

    /// A data response's LENGTH/DATA/ERROR, usually consistent, sometimes not.
    fn data_resp(&mut self) -> (u32, Vec<u8>, i32) {
        let n = self.data_len();
        let data = self.bytes(n);
        let error = if self.bool() { 0 } else { self.u32() as i32 };
        let length = if self.u8() & 3 == 0 {
            self.int()
        } else {
            data.len() as u32
        };
        (length, data, error)
    }

    fn msg(&mut self) -> Msg {
        match self.u8() % 27 {
            0 => Msg::Test {
                attrs: self.test_attrs(),
                nested: self.opt(Self::test_attrs),
            },
            1 => Msg::HostCapReq,
            2 => Msg::FwCapResp(FwCapResp {
                version: FwVersion::from_raw(self.u32()),
                bmc_present: self.bool(),
                bmc_macs: self.macs(BMC_MACS_MAX),
                bmc_all_multi: self.bool(),
                stored_version: self.opt(|g| FwVersion::from_raw(g.u32())),
                active_slot: self.opt(Self::int),
                commit: self.opt(|g| g.string(COMMIT_STR_MAX)),
                link_speed: self.opt(|g| LinkSpeed::ALL[usize::from(g.u8() % 4)]),
                link_fec: self.opt(|g| [Fec::None, Fec::Rs, Fec::BaseR][usize::from(g.u8() % 3)]),
                uefi_version: self.opt(|g| FwVersion::from_raw(g.u32())),
            }),
            3 => Msg::OwnershipReq { take: self.bool() },
            4 => Msg::OwnershipResp { time: self.u64() },
            5 => Msg::HeartbeatReq,
            6 => Msg::HeartbeatResp {
                uptime: self.u64(),
                messages: self.u64(),
            },
            7 => Msg::CoredumpGetInfoReq {
                create: self.bool(),
            },
            8 => Msg::CoredumpGetInfoResp {
                available: self.bool(),
                size: self.int(),
                error: self.int() as i32,
            },
            9 => Msg::CoredumpReadReq {
                offset: self.int(),
                length: self.data_len() as u32,
            },
            10 => {
                let (length, data, error) = self.data_resp();
                Msg::CoredumpReadResp {
                    offset: self.int(),
                    length,
                    data,
                    error,
                }
            }
            11 => Msg::FwStartUpgradeReq {
                section: self.int(),
                image_length: self.int(),
            },
            12 => Msg::FwStartUpgradeResp {
                error: self.int() as i32,
            },
            13 => Msg::FwWriteChunkReq {
                offset: self.int(),
                length: self.data_len() as u32,
            },
            14 => {
                let (length, data, error) = self.data_resp();
                Msg::FwWriteChunkResp {
                    offset: self.int(),
                    length,
                    data,
                    error,
                }
            }
            15 => Msg::FwVerifyImageReq,
            16 => Msg::FwVerifyImageResp {
                error: self.int() as i32,
            },
            17 => Msg::FwFinishUpgradeReq {
                error: self.int() as i32,
            },
            18 => Msg::FwFinishUpgradeResp {
                error: self.int() as i32,
            },
            19 => Msg::QsfpReadReq {
                bank: self.int(),
                page: self.int(),
                offset: self.int(),
                length: self.data_len() as u32,
            },
            20 => {
                let (length, data, error) = self.data_resp();
                Msg::QsfpReadResp {
                    bank: self.int(),
                    page: self.int(),
                    offset: self.int(),
                    length,
                    data,
                    error,
                }
            }
            21 => Msg::TseneReadReq,
            22 => Msg::TseneReadResp {
                therm: self.int() as i32,
                volt: self.int() as i32,
                error: self.int() as i32,
            },
            23 => Msg::LogSendLogsReq {
                enable: self.bool(),
                version: self.opt(Self::int),
                history: self.bool(),
            },
            24 => {
                let first = self.log_entry();
                let n = self.count(LOG_HISTORY_MAX - 1);
                Msg::LogMsg {
                    msec: first.msec,
                    index: first.index,
                    msg: first.msg,
                    more: (0..n).map(|_| self.log_entry()).collect(),
                }
            }
            25 => Msg::LogMsgResp,
            _ => Msg::RpcMacSyncReq {
                rx_flags: self.int(),
                uc: self.macs(MAC_SYNC_MAX),
                mc: self.macs(MAC_SYNC_MAX),
            },
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let msg = Gen(data).msg();
    match msg.encode() {
        Ok(bytes) => {
            assert!(bytes.len() <= MSG_MAX_LEN);
            assert_eq!(msg.validate(), Ok(()));
            assert_eq!(
                Msg::decode(&bytes).as_ref(),
                Ok(&msg),
                "an encoded message does not decode to itself"
            );
        }
        Err(e) => assert_eq!(
            msg.validate(),
            Err(e),
            "encode failed other than validate says: {msg:?}"
        ),
    }
});
