//! Core records whose shape is their serde form (the registry's families, as the JSON
//! exposition writes them) as plain JavaScript values, built in Rust: no JSON text is
//! written or parsed on the way.
//!
//! The values are those `JSON.parse` would give for the record's JSON: objects keep their
//! field order, every number is a double, and a non-finite float is `null` (JSON has no NaN
//! or infinity, and the JSON exposition documents `null` for them).

use std::borrow::Cow;
use std::ffi::CStr;

use napi::bindgen_prelude::{JsObjectValue, JsValue, Null, Object, ToNapiValue};
use napi::{Env, check_status, sys};
use serde::ser::{self, Serialize};

/// A record as a JavaScript value.
pub enum Record {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Record>),
    /// An object, its keys in field order.
    Object(Vec<(Cow<'static, str>, Record)>),
}

impl Record {
    /// `value` in its serde shape.
    ///
    /// # Errors
    /// When `value`'s `Serialize` fails, or a map key is not a string or a number.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> napi::Result<Self> {
        value
            .serialize(Builder)
            .map_err(|e| napi::Error::from_reason(e.0))
    }

    fn number(n: f64) -> Self {
        if n.is_finite() {
            Self::Number(n)
        } else {
            Self::Null
        }
    }
}

impl ToNapiValue for Record {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: napi hands this conversion a live `env`, all that each value's own
        // conversion (and `object`) requires.
        unsafe {
            match val {
                Self::Null => Null::to_napi_value(env, Null),
                Self::Bool(b) => bool::to_napi_value(env, b),
                Self::Number(n) => f64::to_napi_value(env, n),
                Self::String(s) => String::to_napi_value(env, s),
                Self::Array(items) => Vec::to_napi_value(env, items),
                Self::Object(fields) => object(env, fields),
            }
        }
    }
}

/// A JavaScript object with `fields`, in order.
///
/// # Safety
/// `env` is the live environment of the current call.
unsafe fn object(
    env: sys::napi_env,
    fields: Vec<(Cow<'static, str>, Record)>,
) -> napi::Result<sys::napi_value> {
    let mut object = Object::new(&Env::from_raw(env))?;
    let mut key = Vec::new();
    for (name, value) in fields {
        // Named properties, because V8 internalizes their keys: sibling objects then share
        // one shape. A key with a NUL goes in as a string value instead.
        key.clear();
        key.extend_from_slice(name.as_bytes());
        key.push(0);
        if let Ok(name) = CStr::from_bytes_with_nul(&key) {
            object.set_c_named_property(name, value)?;
            continue;
        }
        // SAFETY: `env` is live (this function's contract); the object was made in this call
        // and the key and value are made here, so all three are alive.
        check_status!(unsafe {
            sys::napi_set_property(
                env,
                object.raw(),
                String::to_napi_value(env, name.into_owned())?,
                Record::to_napi_value(env, value)?,
            )
        })?;
    }
    // SAFETY: `env` is live and `object` was made in it.
    unsafe { Object::to_napi_value(env, object) }
}

/// Why a record could not be built.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The serde serializer that builds a [`Record`], following `serde_json`'s data model.
struct Builder;

#[allow(
    clippy::cast_precision_loss,
    reason = "a JS number is a double, as JSON.parse makes it"
)]
impl ser::Serializer for Builder {
    type Ok = Record;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Variant<Seq>;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Variant<Map>;

    fn serialize_bool(self, v: bool) -> Result<Record> {
        Ok(Record::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Record> {
        Ok(Record::Number(v as f64))
    }
    fn serialize_u8(self, v: u8) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Record> {
        Ok(Record::Number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Record> {
        Ok(Record::Number(v as f64))
    }
    fn serialize_f32(self, v: f32) -> Result<Record> {
        Ok(Record::number(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Record> {
        Ok(Record::number(v))
    }
    fn serialize_char(self, v: char) -> Result<Record> {
        Ok(Record::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Record> {
        Ok(Record::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Record> {
        Ok(Record::Array(
            v.iter().map(|b| Record::Number((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Record> {
        Ok(Record::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Record> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Record> {
        Ok(Record::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Record> {
        Ok(Record::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Record> {
        Ok(Record::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Record> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Record> {
        Ok(Record::Object(vec![(
            variant.into(),
            value.serialize(self)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq>> {
        Ok(Variant(variant, Seq(Vec::with_capacity(len))))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map> {
        Ok(Map::new(len.unwrap_or(0)))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map> {
        Ok(Map::new(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Map>> {
        Ok(Variant(variant, Map::new(len)))
    }
}

/// An array being built.
struct Seq(Vec<Record>);

impl ser::SerializeSeq for Seq {
    type Ok = Record;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(value.serialize(Builder)?);
        Ok(())
    }
    fn end(self) -> Result<Record> {
        Ok(Record::Array(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Record;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Record> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Record;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Record> {
        ser::SerializeSeq::end(self)
    }
}

/// An object being built; a map's key waits here for its value.
struct Map {
    fields: Vec<(Cow<'static, str>, Record)>,
    key: Option<String>,
}

impl Map {
    fn new(len: usize) -> Self {
        Self {
            fields: Vec::with_capacity(len),
            key: None,
        }
    }
}

impl ser::SerializeMap for Map {
    type Ok = Record;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        // As in JSON, a number key becomes its decimal text.
        self.key = Some(match key.serialize(Builder)? {
            Record::String(s) => s,
            Record::Number(n) => n.to_string(),
            _ => return Err(Error("a map key must be a string or a number".to_owned())),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value came without its key".to_owned()))?;
        self.fields.push((key.into(), value.serialize(Builder)?));
        Ok(())
    }
    fn end(self) -> Result<Record> {
        Ok(Record::Object(self.fields))
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Record;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.fields.push((key.into(), value.serialize(Builder)?));
        Ok(())
    }
    fn end(self) -> Result<Record> {
        Ok(Record::Object(self.fields))
    }
}

/// An enum variant with fields: `{variant: fields}`.
struct Variant<T>(&'static str, T);

impl ser::SerializeTupleVariant for Variant<Seq> {
    type Ok = Record;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(&mut self.1, value)
    }
    fn end(self) -> Result<Record> {
        Ok(Record::Object(vec![(
            self.0.into(),
            ser::SerializeSeq::end(self.1)?,
        )]))
    }
}

impl ser::SerializeStructVariant for Variant<Map> {
    type Ok = Record;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.1, key, value)
    }
    fn end(self) -> Result<Record> {
        Ok(Record::Object(vec![(
            self.0.into(),
            ser::SerializeStruct::end(self.1)?,
        )]))
    }
}
