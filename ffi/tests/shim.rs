//! The C shim, exercised without EAL initialisation: functions that only touch the
//! memory they are given. Also proves the test binary links and loads the DPDK libraries.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use dpdk_sys::*;

#[test]
fn links_the_installed_dpdk() {
    // SAFETY: rte_version returns a pointer to a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(rte_version()) };
    let v = v.to_str().unwrap();
    assert!(v.starts_with("DPDK 22.11"), "{v}");
    assert_eq!((RTE_VER_YEAR, RTE_VER_MONTH), (22, 11));
}

#[test]
fn softrss_matches_the_microsoft_verification_vector() {
    // The RSS verification suite's key and first IPv4 entry:
    // 66.9.149.187:2794 -> 161.142.100.80:1766.
    let key: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];
    let src = u32::from_be_bytes([66, 9, 149, 187]);
    let dst = u32::from_be_bytes([161, 142, 100, 80]);
    // rte_ipv4_tuple in host order: src, dst, then (sport << 16 | dport).
    let with_ports = [src, dst, (2794 << 16) | 1766];
    // SAFETY: the tuple has the 3 words passed and the key the 40 bytes 3 words need.
    let h = unsafe { fbnic_softrss(with_ports.as_ptr(), 3, key.as_ptr()) };
    assert_eq!(h, 0x51cc_c178);
    // SAFETY: as above, 2 words.
    let h = unsafe { fbnic_softrss(with_ports.as_ptr(), 2, key.as_ptr()) };
    assert_eq!(h, 0x323e_8fc2);
}

#[test]
fn mbuf_reset_and_iova() {
    let mut buf = [0u8; 2048];
    let mut m = MaybeUninit::<rte_mbuf>::zeroed();
    let mp = m.as_mut_ptr();
    // SAFETY: an all-zero rte_mbuf is a valid value (integers and null pointers); the
    // fields are then set as a pool would before rte_pktmbuf_reset, which touches only
    // the mbuf itself.
    let m = unsafe {
        (*mp).buf_addr = buf.as_mut_ptr().cast();
        (*mp).buf_iova = 0x1_0000_0000;
        (*mp).buf_len = buf.len() as u16;
        (*mp).data_off = 7;
        (*mp).nb_segs = 3;
        fbnic_pktmbuf_reset(mp);
        m.assume_init_ref()
    };
    assert_eq!(u32::from(m.data_off), RTE_PKTMBUF_HEADROOM);
    assert_eq!(m.nb_segs, 1);
    assert_eq!(m.port, RTE_MBUF_PORT_INVALID as u16);
    assert_eq!((m.pkt_len, m.data_len), (0, 0));
    // SAFETY: m is a valid mbuf; these only read buf_iova and data_off.
    let (dflt, data) = unsafe { (fbnic_mbuf_data_iova_default(m), fbnic_mbuf_data_iova(m)) };
    assert_eq!(dflt, 0x1_0000_0000 + u64::from(RTE_PKTMBUF_HEADROOM));
    assert_eq!(data, 0x1_0000_0000 + u64::from(m.data_off));
}

#[test]
fn linkstatus_set_reports_changes() {
    let mut data = rte_eth_dev_data::default();
    let mut dev = rte_eth_dev {
        data: &mut data,
        ..Default::default()
    };
    let mut up = rte_eth_link {
        link_speed: RTE_ETH_SPEED_NUM_100G,
        ..Default::default()
    };
    up.set_link_status(1);
    up.set_link_duplex(1);
    // SAFETY: dev.data points at a live rte_eth_dev_data for all calls below.
    unsafe {
        assert_eq!(
            fbnic_eth_linkstatus_set(&mut dev, &up),
            0,
            "down -> up is a change"
        );
        assert_eq!(
            fbnic_eth_linkstatus_set(&mut dev, &up),
            -1,
            "up -> up is not"
        );
        let mut got = rte_eth_link::default();
        fbnic_eth_linkstatus_get(&dev, &mut got);
        assert_eq!(got.link_speed, RTE_ETH_SPEED_NUM_100G);
        assert_eq!(got.link_status(), 1);
    }
    assert_eq!(data.dev_link.link_speed, RTE_ETH_SPEED_NUM_100G);
}

#[test]
fn vdev_name_and_args() {
    let name = CStr::from_bytes_with_nul(b"net_fbnic0\0").unwrap();
    let args = CStr::from_bytes_with_nul(b"mac=02:00:00:00:00:01\0").unwrap();
    let mut devargs = rte_devargs {
        __bindgen_anon_1: rte_devargs__bindgen_ty_2 {
            args: args.as_ptr(),
        },
        ..Default::default()
    };
    let mut vdev = rte_vdev_device::default();
    vdev.device.name = name.as_ptr();
    // SAFETY: vdev's name and devargs point at live NUL-terminated strings.
    unsafe {
        assert_eq!(CStr::from_ptr(fbnic_vdev_device_name(&vdev)), name);
        assert_eq!(
            CStr::from_ptr(fbnic_vdev_device_args(&vdev)).to_bytes(),
            b""
        );
        vdev.device.devargs = &mut devargs;
        assert_eq!(
            CStr::from_ptr(fbnic_vdev_device_args(&vdev)).to_bytes(),
            b"mac=02:00:00:00:00:01"
        );
    }
}
