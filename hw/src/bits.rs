//! Bit fields of registers and descriptors, declared once and read and written by name.
//!
//! [`Field32`] and [`Field64`] describe a run of bits (`hi:lo`, inclusive, as the spec writes
//! them). The [`bitfields!`](crate::bitfields) macro builds a newtype over a `u32` or `u64` with
//! a getter and a `with_` builder per field, so no code outside this crate shifts or masks.

/// Bits `hi:lo` (inclusive) of a 32-bit register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field32 {
    lo: u32,
    mask: u32,
}

impl Field32 {
    /// Bits `hi:lo`, inclusive.
    pub const fn new(hi: u32, lo: u32) -> Self {
        assert!(hi >= lo && hi < 32);
        let width = hi - lo + 1;
        let mask = if width == 32 {
            u32::MAX
        } else {
            (1 << width) - 1
        };
        Self { lo, mask }
    }

    /// The single bit `b`.
    pub const fn bit(b: u32) -> Self {
        Self::new(b, b)
    }

    /// The largest value the field holds.
    #[inline(always)]
    pub const fn max(self) -> u32 {
        self.mask
    }

    /// The field's bits in place.
    #[inline(always)]
    pub const fn in_place_mask(self) -> u32 {
        self.mask << self.lo
    }

    /// The field's value in `word`.
    #[inline(always)]
    pub const fn get(self, word: u32) -> u32 {
        (word >> self.lo) & self.mask
    }

    /// `word` with the field replaced by `value` (truncated to the field's width).
    #[inline(always)]
    pub const fn set(self, word: u32, value: u32) -> u32 {
        (word & !self.in_place_mask()) | ((value & self.mask) << self.lo)
    }
}

/// Bits `hi:lo` (inclusive) of a 64-bit descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field64 {
    lo: u32,
    mask: u64,
}

impl Field64 {
    /// Bits `hi:lo`, inclusive.
    pub const fn new(hi: u32, lo: u32) -> Self {
        assert!(hi >= lo && hi < 64);
        let width = hi - lo + 1;
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1 << width) - 1
        };
        Self { lo, mask }
    }

    /// The single bit `b`.
    pub const fn bit(b: u32) -> Self {
        Self::new(b, b)
    }

    /// The largest value the field holds.
    #[inline(always)]
    pub const fn max(self) -> u64 {
        self.mask
    }

    /// The field's bits in place.
    #[inline(always)]
    pub const fn in_place_mask(self) -> u64 {
        self.mask << self.lo
    }

    /// The field's value in `word`.
    #[inline(always)]
    pub const fn get(self, word: u64) -> u64 {
        (word >> self.lo) & self.mask
    }

    /// `word` with the field replaced by `value` (truncated to the field's width).
    #[inline(always)]
    pub const fn set(self, word: u64, value: u64) -> u64 {
        (word & !self.in_place_mask()) | ((value & self.mask) << self.lo)
    }
}

/// Declares a newtype over `u32` or `u64` whose fields are read and written by name.
///
/// ```
/// fbnic_hw::bitfields! {
///     /// An example register.
///     pub struct Example(u32) {
///         /// A flag.
///         flag enable, with_enable: 1;
///         /// A multi-bit field.
///         field count, with_count: 15, 8;
///     }
/// }
/// let r = Example::default().with_enable(true).with_count(7);
/// assert_eq!(r.raw(), 0x0702);
/// assert!(r.enable());
/// assert_eq!(r.count(), 7);
/// ```
///
/// Setters `debug_assert!` that the value fits; release builds truncate to the field width.
#[macro_export]
macro_rules! bitfields {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($ty:ident) {
            $($body:tt)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        #[repr(transparent)]
        $vis struct $name($ty);

        #[allow(clippy::len_without_is_empty)]
        impl $name {
            /// Wraps a raw value.
            #[inline(always)]
            pub const fn from_raw(raw: $ty) -> Self {
                Self(raw)
            }

            /// The raw value.
            #[inline(always)]
            pub const fn raw(self) -> $ty {
                self.0
            }

            $crate::bitfields!(@fields $ty; $($body)*);
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }
    };

    (@fields $ty:ident; ) => {};

    (@fields $ty:ident;
        $(#[$fmeta:meta])*
        flag $get:ident, $with:ident: $bit:literal;
        $($rest:tt)*
    ) => {
        $(#[$fmeta])*
        #[inline(always)]
        pub const fn $get(self) -> bool {
            $crate::bitfields!(@field $ty, $bit, $bit).get(self.0) != 0
        }

        $(#[$fmeta])*
        #[inline(always)]
        #[must_use]
        pub const fn $with(self, on: bool) -> Self {
            Self($crate::bitfields!(@field $ty, $bit, $bit).set(self.0, on as $ty))
        }

        $crate::bitfields!(@fields $ty; $($rest)*);
    };

    (@fields $ty:ident;
        $(#[$fmeta:meta])*
        field $get:ident, $with:ident: $hi:literal, $lo:literal;
        $($rest:tt)*
    ) => {
        $(#[$fmeta])*
        #[inline(always)]
        pub const fn $get(self) -> $ty {
            $crate::bitfields!(@field $ty, $hi, $lo).get(self.0)
        }

        $(#[$fmeta])*
        #[inline(always)]
        #[must_use]
        pub const fn $with(self, value: $ty) -> Self {
            debug_assert!(value <= $crate::bitfields!(@field $ty, $hi, $lo).max());
            Self($crate::bitfields!(@field $ty, $hi, $lo).set(self.0, value))
        }

        $crate::bitfields!(@fields $ty; $($rest)*);
    };

    // A constant item: the field's shift and mask are computed (and its bounds asserted) at
    // compile time, never per access.
    (@field u32, $hi:literal, $lo:literal) => {{
        const F: $crate::bits::Field32 = $crate::bits::Field32::new($hi, $lo);
        F
    }};
    (@field u64, $hi:literal, $lo:literal) => {{
        const F: $crate::bits::Field64 = $crate::bits::Field64::new($hi, $lo);
        F
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field32_get_set() {
        let f = Field32::new(31, 16);
        assert_eq!(f.max(), 0xffff);
        assert_eq!(f.get(0xabcd_1234), 0xabcd);
        assert_eq!(f.set(0xabcd_1234, 0x5678), 0x5678_1234);
        assert_eq!(
            f.set(0, 0x1_ffff),
            0xffff_0000,
            "truncates to the field width"
        );
        let full = Field32::new(31, 0);
        assert_eq!(full.max(), u32::MAX);
        assert_eq!(Field32::bit(31).in_place_mask(), 0x8000_0000);
    }

    #[test]
    fn field64_get_set() {
        let f = Field64::new(45, 12);
        assert_eq!(f.in_place_mask(), 0x0000_3fff_ffff_f000);
        assert_eq!(f.get(0x0000_1234_5678_9000), 0x1_2345_6789);
        let full = Field64::new(63, 0);
        assert_eq!(full.max(), u64::MAX);
        assert_eq!(Field64::bit(63).set(0, 1), 1 << 63);
    }
}
